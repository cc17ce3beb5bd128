"""通办 — integrated online government-services platform."""
