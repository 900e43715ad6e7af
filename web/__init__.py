"""The web app's own concerns, beside the Gradio tabs (ui/): who a visitor is and what they may name (access), files
handed to visitors (downloads), visitors' uploads kept on disk (uploads), the ETA before Start (estimate) and the
limits only the web server applies (limits). The training process imports none of it
(tests/unit/test_layout_rules.py)."""
