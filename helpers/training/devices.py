"""What the run trains on: number precision, XLA and the tf.distribute strategy.

Each choice has an "auto" that picks what pays on the machine at hand, and a way to force it
off, so a run that misbehaves on some device can fall back to the plain path:

- mixed precision: float16 compute on a GPU, bfloat16 on a CPU with bfloat16 instructions,
  Intel AMX or AVX-512 BF16 (on 2 cores: 2.5x faster per epoch for a two-conv-per-block CNN
  on an AMX Xeon, 1.6-2x on an AVX-512 BF16 AMD EPYC; a CPU without them would emulate
  bfloat16 slowly), float32 elsewhere. Variables stay float32.
- XLA: Keras compiles the training step with XLA when a GPU is present; on a CPU XLA made
  every model measured here 2.5-10x slower, so "auto" leaves it to Keras and "off" forbids it.
- strategy: one device, or tf.distribute's mirrored, multi-worker or TPU strategies, with
  the batch_size parameter counted per replica.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from helpers.backend import GPUS, keras, tf
from helpers.parameters import PRECISIONS, STRATEGIES, XLA_SETTINGS

# Splits the CPU into this many logical devices, so the mirrored strategy can be tried (and
# tested) on a machine without GPUs. Read before TensorFlow sets up its devices.
LOGICAL_CPUS_VARIABLE = "CNN_LOGICAL_CPUS"
_CPU_FLAGS = Path("/proc/cpuinfo")


# oneDNN has bfloat16 convolution and matmul kernels for both: AMX tiles (Intel Xeon since
# Sapphire Rapids) and AVX-512 BF16 dot products (also AMD EPYC since Zen 4).
BFLOAT16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_has_bfloat16_units() -> bool:
    """Whether this CPU multiplies bfloat16 numbers in hardware (AMX or AVX-512 BF16)."""
    try:
        text = _CPU_FLAGS.read_text()
    except OSError:
        return False
    return any(line.startswith("flags") and set(BFLOAT16_FLAGS) & set(line.split())
               for line in text.splitlines())


def unknown_choice(name: str, value: object, choices: tuple[str, ...]) -> ValueError:
    """The error for a choice no branch handles (helpers.parameters refuses it in a run)."""
    return ValueError(f"parameter {name} is {value!r}; valid values: {', '.join(choices)}")


def precision_policy(mixed_precision: str) -> str:
    """The Keras dtype policy for the `mixed_precision` parameter on this machine."""
    if mixed_precision == "auto":
        if GPUS:
            return "mixed_float16"
        return "mixed_bfloat16" if cpu_has_bfloat16_units() else "float32"
    policies = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
    if mixed_precision not in policies:
        raise unknown_choice("mixed_precision", mixed_precision, PRECISIONS)
    return policies[mixed_precision]


def use_precision(mixed_precision: str) -> str:
    """Set the global dtype policy that layers built from now on compute in; returns its name."""
    policy = precision_policy(mixed_precision)
    keras.mixed_precision.set_global_policy(policy)
    return policy


def jit_compile(xla: str) -> str | bool:
    """The `jit_compile` argument of Model.compile for the `xla` parameter."""
    if xla == "auto":
        return "auto"
    if xla == "off":
        return False
    raise unknown_choice("xla", xla, XLA_SETTINGS)


def split_cpu_from_environment() -> None:
    """Split the CPU into $CNN_LOGICAL_CPUS logical devices, if that is set."""
    count = os.environ.get(LOGICAL_CPUS_VARIABLE, "")
    if not count:
        return
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"environment variable {LOGICAL_CPUS_VARIABLE} must be a positive "
                         f"whole number, got {count!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    if len(tf.config.get_logical_device_configuration(cpu) or []) != int(count):
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * int(count))


def make_strategy(strategy: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy for the `strategy` parameter.

    auto: mirrored over all GPUs when there are several, else one device. mirrored: every
    local GPU (or every logical CPU, see CNN_LOGICAL_CPUS). multi_worker: one process per
    machine, the cluster described by the TF_CONFIG environment variable; it must be created
    before TensorFlow runs anything. tpu: the TPU the runtime offers (Colab, Cloud TPU VM).
    """
    if strategy == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("strategy 'multi_worker' needs the TF_CONFIG environment "
                             "variable (the cluster's workers and this one's index)")
        strategy_object = tf.distribute.MultiWorkerMirroredStrategy()
        _patch_keras_fit_for_multi_worker()
        return strategy_object
    split_cpu_from_environment()
    if strategy == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if strategy == "mirrored" or (strategy == "auto" and len(GPUS) > 1):
        devices = ([device.name for device in tf.config.list_logical_devices("GPU")]
                   or [device.name for device in tf.config.list_logical_devices("CPU")])
        return tf.distribute.MirroredStrategy(devices)
    if strategy in ("auto", "default"):
        return tf.distribute.get_strategy()  # the one device TensorFlow picks
    raise unknown_choice("strategy", strategy, STRATEGIES)


def _patch_keras_fit_for_multi_worker() -> None:
    """Work around Keras 3's fit() under MultiWorkerMirroredStrategy (keras-team/keras#20585).

    Keras 3.15 breaks there twice: before the first step it MEAN-reduces a whole input batch
    across workers just to learn its shapes (which fails on the distributed batch), and after
    every step it reduces each scalar metric along axis 0, which a scalar does not have. The
    first now takes this worker's own batch (only its shapes matter), the second reduces
    scalars over the workers alone. Both replacements apply to multi-worker strategies only;
    every other strategy goes through Keras's own code. Tested with two local workers.
    """
    trainer = _keras_trainer_internals()
    if getattr(trainer, "_patched_for_multi_worker", False):
        return
    keras_reduce = trainer.reduce_per_replica
    keras_build = trainer.TensorFlowTrainer._maybe_symbolic_build

    def reduce_per_replica(values, strategy, reduction):  # noqa: ANN001, ANN202
        if reduction in ("auto", "mean") and isinstance(
                strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return tf.nest.map_structure(
                lambda value: strategy.reduce("MEAN", value,
                                              axis=0 if value.shape.rank else None), values)
        return keras_reduce(values, strategy, reduction)

    def maybe_symbolic_build(self, iterator=None, data_batch=None):  # noqa: ANN001, ANN202
        strategy = self._distribute_strategy
        if iterator is None or not isinstance(strategy,
                                              tf.distribute.MultiWorkerMirroredStrategy):
            return keras_build(self, iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            local_batch = tf.nest.map_structure(
                lambda value: strategy.experimental_local_results(value)[0]
                if isinstance(value, tf.distribute.DistributedValues) else value,
                next(batches))
            return keras_build(self, data_batch=local_batch)
        return None

    trainer.reduce_per_replica = reduce_per_replica
    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    trainer._patched_for_multi_worker = True


# The Keras versions whose private trainer internals the patch above matches: both functions
# it replaces, and the (step, index, batches) triples the epoch iterator yields since 3.11.
# pyproject.toml caps keras below the upper end; tested with 3.15.
PATCHED_KERAS = ("3.11", "3.16")


def _keras_trainer_internals():  # noqa: ANN202 (returns a module)
    """keras.src's TensorFlow trainer, checked to hold what the multi-worker patch replaces.

    Raises RuntimeError naming the installed Keras and the versions the patch was written for,
    rather than letting fit() fail later on a missing attribute or a misread batch.
    """
    low, high = PATCHED_KERAS
    problem = ""
    try:
        from keras.src.backend.tensorflow import trainer
    except ImportError:
        trainer, problem = None, "which has no keras.src.backend.tensorflow.trainer"
    if trainer is not None:
        missing = [name for owner, name in ((trainer, "reduce_per_replica"),
                                            (getattr(trainer, "TensorFlowTrainer", None),
                                             "_maybe_symbolic_build"))
                   if not hasattr(owner, name)]
        if missing:
            problem = f"which lacks {' and '.join(missing)}"
        elif not _release(low) <= _release(keras.__version__) < _release(high):
            problem = "whose trainer differs"
    if problem:
        raise RuntimeError(
            f"strategy 'multi_worker' replaces private Keras internals as Keras {low} up to "
            f"{high} (exclusive) have them (tested with 3.15), but Keras {keras.__version__} "
            f"is installed, {problem}: pip install 'keras>={low},<{high}' (or use another "
            "strategy)")
    return trainer


def _release(version: str) -> tuple[int, int]:
    """The major and minor numbers of a version string ("3.15.1" -> (3, 15))."""
    major, minor = version.split(".")[:2]
    return int(major), int(re.match(r"\d+", minor).group())  # "16rc1" -> 16


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's files (in a multi-worker run only the chief does:
    the "chief" task, or worker 0 when the cluster names no chief)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    if resolver.task_type in (None, "chief"):
        return True
    return (resolver.task_type == "worker" and resolver.task_id == 0
            and "chief" not in resolver.cluster_spec().as_dict())


def describe(strategy: tf.distribute.Strategy) -> list[str]:
    """The devices the strategy trains on, for the report (["CPU"] on a plain CPU run)."""
    replicas = strategy.num_replicas_in_sync
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return [f"{replicas} replicas on {len(strategy.extended.worker_devices)} local "
                f"device(s) per worker"]
    if replicas > 1 or isinstance(strategy, tf.distribute.MirroredStrategy):
        return list(strategy.extended.worker_devices)
    return list(GPUS[:1]) or ["CPU"]
