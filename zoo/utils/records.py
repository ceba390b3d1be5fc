"""Comparing a recorded configuration with the one asked for now (resume, search reload)."""


def flatten(value, prefix=""):
    """{dotted key: leaf value} of nested dicts (a list or an empty dict is a leaf)."""
    if isinstance(value, dict) and value:
        out = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def differences(recorded, current):
    """[(dotted key, recorded value, current value)] where two records differ.

    Within a serialized keras object of another class (an SGD for an Adam) only the
    class is reported, not each of its fields.
    """
    out = []
    for key in sorted(set(recorded) | set(current)):
        old, new = recorded.get(key), current.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and (
                old.get("class_name") == new.get("class_name")):
            flat_old, flat_new = flatten(old, key), flatten(new, key)
            out += [(k, flat_old.get(k), flat_new.get(k))
                    for k in sorted(set(flat_old) | set(flat_new))
                    if flat_old.get(k) != flat_new.get(k)]
        else:
            out.append((key, _summary(old), _summary(new)))
    return out


def _summary(value):
    if isinstance(value, dict) and "class_name" in value:
        return value["class_name"]
    return value
