"""Code that runs inside the training process: the run itself (train) and the Trainer callbacks.

Never imports the job runner (runs.jobs): the app starts this process, not the other way round."""
