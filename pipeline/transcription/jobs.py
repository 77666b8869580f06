"""The transcription queue as plain data: jobs, their states, and a file that survives restarts.

No Qt and no threads here: the app's runner moves jobs through these states
and the ui shows them. Every change is meant to be saved (`save_queue`) so a
crash or a restart loses no queued work; a job that was running when the app
stopped is queued again on load.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from pipeline.atomic_write import write_text_atomic

QUEUE_FORMAT = "hark-queue"
QUEUE_VERSION = 1


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "queued": "Waiting",
            "running": "Transcribing",
            "done": "Done",
            "failed": "Failed",
            "cancelled": "Cancelled",
        }[self.value]


@dataclass
class Job:
    path: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: JobStatus = JobStatus.QUEUED
    progress: float = 0.0  # 0..1
    duration: float | None = None  # seconds of media, once known
    error: str | None = None  # one line for the user, when failed
    project: str | None = None  # project file, when done
    outputs: list[str] = field(default_factory=list)  # exported files, when done
    warnings: list[str] = field(default_factory=list)  # what the user should know about a finished job
    added: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    eta: float | None = None  # seconds left, while running (not saved)
    stage: str | None = None  # what a running job is doing, e.g. "Identifying speakers" (not saved)

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)


class JobQueue:
    """Jobs in the order they were added; at most one runs at a time."""

    def __init__(self, jobs: list[Job] | None = None) -> None:
        self.jobs: list[Job] = list(jobs or [])

    def __len__(self) -> int:
        return len(self.jobs)

    def get(self, job_id: str) -> Job:
        for j in self.jobs:
            if j.id == job_id:
                return j
        raise KeyError(job_id)

    def index(self, job_id: str) -> int:
        return next(i for i, j in enumerate(self.jobs) if j.id == job_id)

    def add(self, paths: list[str | Path]) -> list[Job]:
        """Queue files; one already waiting or running is not queued twice."""
        busy = {j.path for j in self.jobs if j.active}
        added = []
        for p in paths:
            key = str(Path(p).expanduser().resolve())
            if key in busy:
                continue
            busy.add(key)
            job = Job(path=key)
            self.jobs.append(job)
            added.append(job)
        return added

    def next_queued(self) -> Job | None:
        return next((j for j in self.jobs if j.status is JobStatus.QUEUED), None)

    def running(self) -> Job | None:
        return next((j for j in self.jobs if j.status is JobStatus.RUNNING), None)

    def start(self, job_id: str) -> Job:
        job = self.get(job_id)
        job.status, job.progress, job.error, job.eta = JobStatus.RUNNING, 0.0, None, None
        job.started, job.finished, job.stage = time.time(), None, None
        return job

    def set_progress(self, job_id: str, progress: float, eta: float | None) -> Job:
        job = self.get(job_id)
        job.progress, job.eta = max(job.progress, min(1.0, progress)), eta
        return job

    def finish(self, job_id: str, project: str, outputs: list[str]) -> Job:
        job = self.get(job_id)
        job.status, job.progress, job.eta = JobStatus.DONE, 1.0, None
        job.project, job.outputs, job.finished = project, list(outputs), time.time()
        return job

    def fail(self, job_id: str, error: str) -> Job:
        job = self.get(job_id)
        job.status, job.error, job.eta, job.finished = JobStatus.FAILED, error, None, time.time()
        return job

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            job.status, job.eta, job.finished = JobStatus.CANCELLED, None, time.time()
        return job

    def retry(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.DONE):
            job.status, job.progress, job.error, job.eta = JobStatus.QUEUED, 0.0, None, None
            job.started = job.finished = None
            job.warnings = []
        return job

    def remove(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status is JobStatus.RUNNING:
            raise ValueError("cancel a running job before removing it")
        self.jobs.remove(job)
        return job

    def counts(self) -> dict[JobStatus, int]:
        out = dict.fromkeys(JobStatus, 0)
        for j in self.jobs:
            out[j.status] += 1
        return out


def estimate_eta(progress: float, elapsed: float) -> float | None:
    """Seconds left at the average rate so far; None until there is enough to go on."""
    if progress < 0.02 or elapsed < 1.0:
        return None
    return max(0.0, elapsed * (1.0 - progress) / progress)


def _job_to_dict(j: Job) -> dict[str, Any]:
    d = asdict(j)
    d["status"] = j.status.value
    d.pop("eta")
    d.pop("stage")
    return d


def _job_from_dict(d: dict[str, Any]) -> Job:
    status = JobStatus(d.get("status", "queued"))
    job = Job(
        path=str(d["path"]),
        id=str(d["id"]),
        status=status,
        progress=float(d.get("progress") or 0.0),
        duration=d.get("duration"),
        error=d.get("error"),
        project=d.get("project"),
        outputs=[str(o) for o in d.get("outputs") or []],
        warnings=[str(w) for w in d.get("warnings") or []],
        added=float(d.get("added") or time.time()),
        started=d.get("started"),
        finished=d.get("finished"),
    )
    if job.status is JobStatus.RUNNING:  # the app stopped mid-job: run it again
        job.status, job.progress, job.started = JobStatus.QUEUED, 0.0, None
    return job


def save_queue(q: JobQueue, path: str | Path) -> Path:
    data = {"format": QUEUE_FORMAT, "version": QUEUE_VERSION, "jobs": [_job_to_dict(j) for j in q.jobs]}
    return write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def load_queue(path: str | Path) -> tuple[JobQueue, str | None]:
    """The saved queue, and a warning when the file was unreadable (an empty queue then)."""
    p = Path(path)
    if not p.exists():
        return JobQueue(), None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        if data.get("format") != QUEUE_FORMAT or int(data.get("version", 0)) > QUEUE_VERSION:
            raise ValueError("not a queue file this Hark can read")
        return JobQueue([_job_from_dict(d) for d in data["jobs"]]), None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        # Keep the bad file for inspection rather than overwrite it on the next save.
        backup = p.with_suffix(p.suffix + ".bad")
        try:
            p.replace(backup)
        except OSError:
            pass
        return JobQueue(), f"the saved queue could not be read ({e}); it was kept as {backup.name}"
