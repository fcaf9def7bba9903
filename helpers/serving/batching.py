"""Concurrent requests' images run through the model together, one call at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MAX_BATCHED_IMAGES = 256  # images the batcher runs through the model in one call

class BatchingPredictor:
    """Runs concurrent requests' images through the model together.

    Requests that arrive while the model is busy wait and then go through in one call, so
    under load the model runs fewer, larger batches; a lone request waits for nobody.
    """

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray],
                 max_batch_images: int = MAX_BATCHED_IMAGES) -> None:
        self._predict = predict
        self._max_batch_images = max_batch_images
        self._pending: list[tuple[np.ndarray, asyncio.Future[np.ndarray]]] = []
        self._wake = asyncio.Event()
        # One thread: TensorFlow spreads each call over the cores itself.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the worker on the running event loop."""
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the worker and its thread."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        self._executor.shutdown(wait=True)

    async def __call__(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities of these images, computed with whatever else is waiting."""
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._pending.append((images, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                taken, count = [], 0
                while self._pending and (not taken or count + len(self._pending[0][0])
                                         <= self._max_batch_images):
                    images, future = self._pending.pop(0)
                    taken.append((images, future))
                    count += len(images)
                batch = np.concatenate([images for images, _ in taken])
                try:
                    probabilities = await loop.run_in_executor(self._executor, self._predict,
                                                               batch)
                except Exception as error:  # noqa: BLE001 - handed to the waiting requests
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(error)
                    continue
                start = 0
                for images, future in taken:
                    if not future.done():  # a client that went away leaves a cancelled one
                        future.set_result(probabilities[start: start + len(images)])
                    start += len(images)
