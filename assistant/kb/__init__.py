"""The knowledge base: qa.yaml loading, the embedding cache and the matcher."""

from .knowledge import Entry, KnowledgeBase, load_kb, render_answer
from .matcher import Candidate, Match, Matcher

__all__ = ["Candidate", "Entry", "KnowledgeBase", "Match", "Matcher", "load_kb", "render_answer"]
