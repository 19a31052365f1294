"""The Textual terminal UI (presentation only; it never talks to the cluster)."""
