"""Quiz and flashcards as data plus the plain-Python logic around them (no gradio here)."""
