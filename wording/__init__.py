"""The words for facts that both the web UI and the training process show.

Beside ui/, not in it: the training process (`python -m trainer_backend` and training/) prints a run's choices to
its log and the terminal, and it may not import ui/ (which imports Gradio; tests/unit/test_layout_rules.py). So the
sentences for typed facts it prints live here, and ui/ imports them from here too: one table, two readers. What
only the web page shows (a Stop's Outcome, the fast path's Route) stays in ui/messages.py. No Gradio, no web/.
"""
