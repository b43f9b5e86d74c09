"""Running as a service: systemd notification (notify), unit files (units) and reloading the
knowledge base on SIGHUP (reload)."""
