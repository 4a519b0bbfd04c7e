"""The layout of a tinygan checkpoint, checked in one place: the sizes its .npz members declare,
its JSON header (modules, optimizer states, meta) and its arrays' names, dtypes and shapes, and
for a train_cifar.py checkpoint its step, history and config. A file that is not what this
version writes is a CheckpointError naming the file, the field, what was expected and what it
holds: '.../checkpoint.npz: meta.step: expected an int >= 0, got -3'."""
import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple
from zipfile import ZIP_STORED

MAX_INFLATED_BYTES = 1 << 30  # what a checkpoint's compressed members may inflate to, in all
MISSING = object()  # a field that is absent


class CheckpointError(ValueError):
    """A checkpoint whose header or arrays are not what this version of tinygan writes."""


class Array(NamedTuple):
    """An array as its .npy header declares it, before its data is read."""
    shape: tuple
    dtype: object


@dataclass(frozen=True)
class Kind:
    """What a field must hold: words for 'expected ...' and a test of a value."""
    expected: str
    test: Callable

    def check(self, path, field, value):
        """Raise a CheckpointError naming path and field unless value is of this kind."""
        if value is MISSING or not self.test(value):
            raise CheckpointError(f"{path}: {field}: expected {self.expected}, "
                                  f"got {describe(value)}")


def describe(value):
    """A short description of a JSON value or an array, for 'got ...'."""
    if value is MISSING:
        return "nothing (no such field)"
    if hasattr(value, "dtype"):
        return f"a {value.dtype} array of shape {tuple(value.shape)}"
    if isinstance(value, dict):
        keys = ", ".join(map(str, list(value)[:6])) + (", ..." if len(value) > 6 else "")
        return f"a JSON object with keys [{keys}]"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return json.dumps(value)[:40]  # a number, true, false or null


def _is_int(value):
    """Whether value is a JSON integer (not true or false)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    """Whether value is a finite JSON number (not true or false)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_name(value):
    """Whether value can name a module or an optimizer: a string without '/', not 'arrays'."""
    return isinstance(value, str) and value != "" and "/" not in value and value != "arrays"


OBJECT = Kind("a JSON object", lambda v: isinstance(v, dict))
TEXT = Kind("a string", lambda v: isinstance(v, str))
SWITCH = Kind("true or false", lambda v: isinstance(v, bool))
INT = Kind("an int", _is_int)
COUNT = Kind("an int >= 0", lambda v: _is_int(v) and v >= 0)
SIZE = Kind("an int >= 1", lambda v: _is_int(v) and v >= 1)
NUMBER = Kind("a finite number", _is_number)
NON_NEGATIVE = Kind("a number >= 0", lambda v: _is_number(v) and v >= 0)
POSITIVE = Kind("a number > 0", lambda v: _is_number(v) and v > 0)
FRACTION = Kind("a number in [0, 1)", lambda v: _is_number(v) and 0 <= v < 1)
BETAS = Kind("a list of 2 numbers in [0, 1)",
             lambda v: isinstance(v, list) and len(v) == 2 and all(map(FRACTION.test, v)))
NAMES = Kind("a list of distinct names (strings without '/')",
             lambda v: isinstance(v, list) and all(map(_is_name, v)) and len(set(v)) == len(v))
OPTIMIZERS = Kind("a JSON object of optimizer states by name (strings without '/')",
                  lambda v: isinstance(v, dict) and all(map(_is_name, v)))
PER_PARAMETER = Kind("a list of null or a JSON object per parameter",
                     lambda v: isinstance(v, list) and all(s is None or isinstance(s, dict)
                                                           for s in v))
FLOATS = Kind("a float array", lambda a: a.dtype.kind == "f")
TABLE = Kind("a 2-D float array (rows, columns)",
             lambda a: a.dtype.kind == "f" and len(a.shape) == 2)
HEADER = Kind("a 0-D string array holding tinygan's JSON header",
              lambda a: a.dtype.kind == "U" and a.shape == ())

# What optim's Adam and RMSprop state_dict() hold, as save_checkpoint stores it: the
# hyper-parameters, then per parameter its numbers (in "scalars") and its arrays (NAME/KEY/INDEX).
OPTIMIZER_STATES = {
    "Adam": ({"lr": POSITIVE, "betas": BETAS, "eps": POSITIVE}, {"step": COUNT}, ("m", "v")),
    "RMSprop": ({"lr": POSITIVE, "alpha": FRACTION, "eps": POSITIVE}, {}, ("v",)),
}
STATE = Kind("the state of " + " or ".join(
    f"{name} ({', '.join([*hyper, 'scalars'])})" for name, (hyper, _, _) in
    OPTIMIZER_STATES.items()), lambda v: isinstance(v, dict) and _layout(v) is not None)

TRAINING_OPTIMIZERS = Kind("the states of opt_G and opt_D", lambda v: {"opt_G", "opt_D"} <= set(v))
# The settings of a train_cifar.py config that the readers of its checkpoints (dcgan.models,
# generate.py, evaluate.py) use, and those of them that must be there.
READ_SETTINGS = {"nz": SIZE, "ngf": SIZE, "ndf": SIZE, "image_size": SIZE, "batch_size": SIZE,
                 "seed": COUNT, "g_activation": TEXT, "d_norm": TEXT, "prior": TEXT}
REQUIRED_SETTINGS = ("nz", "ngf", "ndf", "image_size")
SETTING_KINDS = {int: INT, float: NUMBER, str: TEXT, bool: SWITCH}  # of a config field's type
SCALAR = Kind("a number, a string, true or false", lambda v: isinstance(v, (int, float, str)))


def _layout(state):
    """The OPTIMIZER_STATES entry whose hyper-parameters are the keys of state, or None."""
    keys = set(state) - {"scalars"}
    return next((layout for layout in OPTIMIZER_STATES.values() if set(layout[0]) == keys), None)


def check_members(path, members, file_bytes):
    """Check the sizes that a .npz archive's members (ZipInfos) declare, before any is
    read: .npy files only, each stored one as large as it is in the file, all of them within
    the file, and the compressed ones inflating to MAX_INFLATED_BYTES in all."""
    for member in members:
        if not member.filename.endswith(".npy"):
            raise CheckpointError(f"{path}: {member.filename}: expected only .npy arrays in the "
                                  "archive, got another file")
        if member.compress_type == ZIP_STORED and member.file_size != member.compress_size:
            raise CheckpointError(f"{path}: {member.filename}: expected the size of a stored "
                                  f"member, {_size(member.compress_size)}, got "
                                  f"{_size(member.file_size)}")
    packed = sum(m.compress_size for m in members)
    inflated = sum(m.file_size for m in members if m.compress_type != ZIP_STORED)
    if packed > file_bytes:
        raise CheckpointError(f"{path}: its members: expected at most the file's own "
                              f"{_size(file_bytes)}, got {_size(packed)}")
    if inflated > MAX_INFLATED_BYTES:
        raise CheckpointError(f"{path}: its compressed members: expected at most "
                              f"{_size(MAX_INFLATED_BYTES)} inflated, got {_size(inflated)}")


def _size(count):
    """A byte count in words: '2.0 GiB (2,147,483,648 bytes)'."""
    return f"{count / 2**30:.1f} GiB ({count:,} bytes)"


def check_header(path, header, arrays, version):
    """Check a checkpoint's JSON header (of format ``version``) and its arrays ({name: Array},
    the header's own left out): every array belongs to a module, an optimizer's state or
    'arrays'."""
    OBJECT.check(path, "__header__", header)
    if header.get("format") != version:
        raise CheckpointError(f"{path}: checkpoint format {header.get('format')}, this tinygan "
                              f"reads format {version}")
    NAMES.check(path, "modules", header.get("modules", MISSING))
    OPTIMIZERS.check(path, "optimizers", header.get("optimizers", MISSING))
    OBJECT.check(path, "meta", header.get("meta", MISSING))
    modules, optimizers = header["modules"], header["optimizers"]
    clash = set(modules) & set(optimizers)
    if clash:
        raise CheckpointError(f"{path}: optimizers: expected names other than the modules', "
                              f"got {sorted(clash)[0]!r} in both")
    owned = {name: {} for name in [*modules, *optimizers, "arrays"]}
    for key, array in arrays.items():
        owner, _, rest = key.partition("/")
        if owner not in owned or not rest:
            raise CheckpointError(f"{path}: {key}: expected arrays named MODULE/..., "
                                  "OPTIMIZER/KEY/INDEX or arrays/... of the modules "
                                  f"{modules} and optimizers {list(optimizers)}, got this one")
        owned[owner][rest] = array
    for name in modules:
        for key, array in owned[name].items():
            FLOATS.check(path, f"{name}/{key}", array)
    for name, state in optimizers.items():
        _check_optimizer(path, name, state, owned[name])


def _check_optimizer(path, name, state, arrays):
    """Check one optimizer's state and its arrays ({KEY/INDEX: array})."""
    field = f"optimizers.{name}"
    STATE.check(path, field, state)
    hyper, numbers, keys = _layout(state)
    for key, kind in hyper.items():
        kind.check(path, f"{field}.{key}", state[key])
    PER_PARAMETER.check(path, f"{field}.scalars", state.get("scalars", MISSING))
    per_parameter = [{} for _ in state["scalars"]]
    for key, array in arrays.items():
        what, _, index = key.rpartition("/")
        if what not in keys or not index.isdigit() or int(index) >= len(per_parameter):
            raise CheckpointError(f"{path}: {name}/{key}: expected {name}/KEY/INDEX with KEY in "
                                  f"{list(keys)} and INDEX below {len(per_parameter)}, got this")
        FLOATS.check(path, f"{name}/{key}", array)
        per_parameter[int(index)][what] = array
    for index, (scalars, held) in enumerate(zip(state["scalars"], per_parameter)):
        expected = [] if scalars is None else sorted(keys)
        if sorted(held) != expected:
            raise CheckpointError(f"{path}: {name}/*/{index}: expected the arrays {expected} "
                                  f"(its scalars are {describe(scalars)}), got {sorted(held)}")
        shapes = sorted({tuple(array.shape) for array in held.values()})
        if len(shapes) > 1:
            raise CheckpointError(f"{path}: {name}/*/{index}: expected {' and '.join(keys)} of "
                                  f"one shape, got the shapes {shapes}")
        for key, kind in numbers.items():
            if scalars is not None:
                kind.check(path, f"{field}.scalars[{index}].{key}", scalars.get(key, MISSING))


def check_training(path, checkpoint, config_type=None):
    """Check what a train_cifar.py checkpoint holds beyond the format: G, D and their
    optimizers, the step, the history tables and the config (against ``config_type``'s fields,
    a dataclass, where given: its names and types; else the settings that its readers use)."""
    meta, arrays = checkpoint["meta"], checkpoint["arrays"]
    if not {"G", "D"} <= set(checkpoint["modules"]) or "config" not in meta:
        held = ", ".join(checkpoint["modules"]) or "no modules"
        raise CheckpointError(f"{path}: a tinygan checkpoint of {held}, not a train_cifar.py "
                              "training checkpoint (expected G, D and their config)")
    TRAINING_OPTIMIZERS.check(path, "optimizers", checkpoint["optimizers"])
    COUNT.check(path, "meta.step", meta.get("step", MISSING))
    if "epoch" in meta:
        NON_NEGATIVE.check(path, "meta.epoch", meta["epoch"])
    if "G_ema" in checkpoint["modules"]:
        COUNT.check(path, "meta.ema_updates", meta.get("ema_updates", MISSING))
    TABLE.check(path, "arrays/history", arrays.get("history", MISSING))
    for name in ("evaluations", "grad_norms"):
        if name in arrays:
            TABLE.check(path, f"arrays/{name}", arrays[name])
    _check_config(path, meta["config"], config_type)


def _check_config(path, config, config_type):
    """Check a train_cifar.py config: READ_SETTINGS, and config_type's fields where given."""
    OBJECT.check(path, "meta.config", config)
    for key in REQUIRED_SETTINGS:
        READ_SETTINGS[key].check(path, f"meta.config.{key}", config.get(key, MISSING))
    kinds = [READ_SETTINGS]
    if config_type is not None:
        fields = {f.name: _setting_kind(f) for f in dataclasses.fields(config_type)}
        unknown = sorted(set(config) - set(fields))
        if unknown:
            raise CheckpointError(f"{path}: meta.config: expected the settings of this version "
                                  f"of train_cifar.py, got unknown ones: {', '.join(unknown)}")
        kinds.append(fields)
    for settings in kinds:
        for key, kind in settings.items():
            if key in config:
                kind.check(path, f"meta.config.{key}", config[key])


def _setting_kind(field):
    """The Kind of a config field's values: its type's (a JSON scalar for another type), and
    one of its choices where it has them (cli.option's metadata)."""
    kind, choices = SETTING_KINDS.get(field.type, SCALAR), field.metadata.get("choices")
    if not choices:
        return kind
    return Kind(f"one of {', '.join(map(str, choices))}",
                lambda v: kind.test(v) and v in choices)
