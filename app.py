"""Assembles the four tabs of the fine-tuning studio, builds its services once, and launches it."""
from __future__ import annotations

import threading

import gradio as gr

from quiz import judge
from trainer_backend import serving, settings
from trainer_backend.runs.jobs import JobRunner
from trainer_backend.runs.store import RunStore
from trainer_backend.serving.cache import in_use as models_in_use
from ui import lesson_tab, predict_tab, quiz_tab, train_tab
from ui.common import TAB_IDS, AppContext, timer_off, timer_on, viewer_box, visitor_state
from ui.queue_polling import quiet_when_idle
from ui.services import Services
from ui.theme import CSS, HEAD, THEME
from web import downloads, estimate
from web.limits import limits as web_limits

TITLE = "Fine-tuning studio · BERT on MRPC"


def in_request(request: gr.Request | None, call):
    """Make `call` inside the Gradio request of the visitor who pressed Start (ZeroGPU reads it to charge their
    daily quota rather than the Space's); a run started without one (the CLI, tests) is charged as anonymous."""
    from gradio.context import LocalContext

    if request is not None:
        LocalContext.request.set(request)  # this thread's own context: the job runner's call thread
    return call()


def job_runner() -> JobRunner:
    """Child processes, or on ZeroGPU one `@spaces.GPU` call per run (runs/zerogpu.py): there the GPU exists only
    inside such calls. `spaces` is imported only there, before anything could touch CUDA."""
    if not settings.on_zero_gpu():
        return JobRunner(RunStore())
    import spaces

    from trainer_backend.runs.zerogpu import GpuCalls

    return JobRunner(RunStore(), gpu_calls=GpuCalls(decorate=spaces.GPU, enter=in_request))


def build_app(runner: JobRunner | None = None) -> gr.Blocks:
    """The whole app: Lesson, Quiz & Flashcards, Train, Predict. Services are built here, never at import."""
    settings.prepare_process()
    settings.seal_owner_secrets()  # on a Space the owner's HF_TOKEN leaves this process before any visitor arrives
    ctx = AppContext(services=Services(runner or job_runner()))
    ctx.services.runner.cache_in_use = models_in_use  # the cache pruner keeps what Predict has loaded
    if not settings.hardware().is_gpu:
        estimate.probe_gflops()  # the ETA's speed probe, taken before the first page's handlers load the machine
    # Old download copies Gradio keeps for visitors are deleted after an hour (checked every 10 minutes).
    with gr.Blocks(title=TITLE, delete_cache=(600, 3600)) as demo:
        ctx.root = demo
        ctx.visitor = visitor_state()
        ctx.viewer = viewer_box()  # the visitor's signed ticket: Predict and Lesson use their own runs only
        gr.Markdown(f"# {TITLE}\nLearn, practise and run the fine-tuning of a pretrained encoder "
                    "on the GLUE MRPC paraphrase task with the Hugging Face `Trainer`.")
        if settings.on_space():
            gr.LoginButton(elem_id="login")
        with gr.Tabs() as tabs:
            ctx.tabs = tabs
            with gr.Tab("Lesson", id=TAB_IDS["lesson"]) as lesson:
                lesson_tab.build(ctx)
            with gr.Tab("Quiz", id=TAB_IDS["quiz"]) as quiz:  # short labels: all four fit a phone
                quiz_tab.build(ctx)
            with gr.Tab("Train", id=TAB_IDS["train"]) as train:
                train_tab.build(ctx)
            with gr.Tab("Predict", id=TAB_IDS["predict"]) as predict:
                predict_tab.build(ctx)
        ctx.load_viewer()  # visitor id, then the viewer's key, then the menus that wait for it
        train.select(timer_on, None, ctx.train_timer, api_name=False)
        for other in (lesson, quiz, predict):
            other.select(timer_off, None, ctx.train_timer, api_name=False)
        ctx.wire()
    demo.runner = ctx.services.runner
    return demo


def launch(demo: gr.Blocks, **kwargs) -> tuple:
    """Start the services' threads (job runner, Predict and quiz-judge warm-ups) and serve, with every resource bounded."""
    lim = web_limits()
    demo.runner.start_background()
    if settings.predict_settings().warm:  # the default Predict model loads while the first page renders
        threading.Thread(target=serving.warm_default, name="predict-warm-up", daemon=True).start()
    # The quiz's judge loads while the first page renders, so the first feedback does not wait for it.
    threading.Thread(target=judge.warm_up, name="quiz-judge-warm-up", daemon=True).start()
    demo.queue(default_concurrency_limit=8, max_size=lim.gradio_queue)
    quiet_when_idle(demo._queue)  # Gradio polls its queue every 1 ms even when idle (ui/queue_polling.py)
    return demo.launch(
        theme=THEME, css=CSS, head=HEAD, server_name=settings.server_name(),
        max_file_size=lim.upload_bytes, allowed_paths=[str(downloads.folder())], **kwargs)


if __name__ == "__main__":
    settings.restart_without_owner_secrets()  # on a Space: the same command again, without the owner's token
    launch(build_app())
