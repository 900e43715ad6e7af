"""Publishing a run: the model card and the allow-listed push to the Hugging Face Hub."""
