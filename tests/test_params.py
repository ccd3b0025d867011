"""The one option validator (surrogates/params.py): messages name the key path, what it
accepts and the value given."""

import math

import numpy as np
import pytest

from surrogates.params import Interval, ListOf, MappingOf, OneOf, Options, Section, validate

SCHEMA = {
    "n": Interval("int", 1),
    "rate": Interval("real", 0, 1, closed="right"),
    "flag": bool,
    "name": [str, None],
    "kind": Options(("a", "b")),
    "sizes": ListOf(Interval("int", 1), min_length=1),
    "box": MappingOf(Interval("real"), keys=("x", "y")),
    "inner": Section({"k": Interval("int", 0)}, required=("k",)),
    "pick": OneOf("name", {"one": {"p": Interval("int", 0)}, "two": {}}, {"one": ("p",)}),
}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n": 0}, "The 'n' parameter of T must be an int in the range [1, inf). Got 0 instead."),
        ({"n": 2.5}, "must be an int in the range [1, inf). Got 2.5 instead."),
        ({"n": True}, "Got True instead."),  # a bool is not an int
        ({"n": "3"}, "Got '3' instead."),  # nor is a string of digits
        ({"rate": 0}, "'rate' parameter of T must be a float in the range (0, 1]. Got 0"),
        ({"rate": math.nan}, "Got nan instead."),
        ({"flag": 1}, "'flag' parameter of T must be a bool. Got 1 instead."),
        ({"name": 3}, "must be a str or None. Got 3 instead."),
        ({"kind": "c"}, "must be one of {'a', 'b'}. Got 'c' instead."),
        ({"sizes": [2, 0]}, "The 'sizes[1]' parameter of T must be an int in the range [1, inf)"),
        ({"sizes": []}, "'sizes' parameter of T must be a list of at least 1 of an int"),
        ({"box": {"x": 1.0, "z": 2.0}}, "T: unknown key 'box.z'; allowed: x, y"),
        ({"box": {"x": math.inf}}, "The 'box.x' parameter of T must be a float in the range "
                                    "(-inf, inf). Got inf instead."),
        ({"inner": {}}, "T: missing key(s) inner.k"),
        ({"inner": {"k": -1}}, "The 'inner.k' parameter of T"),
        ({"pick": {"name": "three"}}, "The 'pick.name' parameter of T must be one of "
                                      "{'one', 'two'}. Got 'three' instead."),
        ({"pick": {"name": "one"}}, "T: missing key(s) pick.p"),
        ({"pick": {"name": "two", "p": 1}}, "T: unknown key 'pick.p'; allowed: name"),
        ({"nn": 1}, "T: unknown key 'nn'; did you mean 'n'?"),
    ],
)
def test_messages_name_the_path_the_constraint_and_the_value(params, message):
    with pytest.raises(ValueError) as err:
        validate(params, SCHEMA, "T")
    assert message in str(err.value)


def test_valid_options_pass_unchanged():
    params = {"n": np.int64(3), "rate": 1, "flag": False, "name": None, "kind": "b",
              "sizes": (4, 5.0), "box": {"y": -2.5}, "inner": {"k": 0},
              "pick": {"name": "one", "p": 2}}
    assert validate(params, SCHEMA, "T") == params


def test_options_are_stored_as_their_constraints_declare():
    from surrogates.bnn import BNNEnsemble
    from surrogates.mlp import MLPEnsemble

    mlp = MLPEnsemble("xsec", hidden=[16, 8.0], epochs=3.0, lr=1, warm_start=True)
    assert mlp.hidden == (16, 8) and all(type(h) is int for h in mlp.hidden)
    assert type(mlp.epochs) is int and type(mlp.lr) is float and mlp.warm_start is True
    bnn = BNNEnsemble("xsec", prior_scale=None, pretrain_lrs=[1, 0.1])
    assert bnn.prior_scale is None and bnn.pretrain_lrs == (1.0, 0.1)
    assert bnn.get_config()["pretrain_lrs"] == [1.0, 0.1]
