"""Lesson content and the pure helpers behind its live demos (no gradio here)."""
