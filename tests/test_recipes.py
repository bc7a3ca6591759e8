"""Recipes type every key by its default: make_config and the command line's --set refuse a value of
another type or an unknown key with one line naming the key, the value and what the key takes."""

import json

import pytest

from scratchgan import models, train
from scratchgan.training import recipes


# ----- make_config: values from Python
@pytest.mark.parametrize(
    "key, value, takes",
    [
        ("lr", "abc", "a float"),
        ("n_critic", 2.5, "an int"),  # a float for an int key
        ("epochs", True, "an int"),  # a bool is not a number here
        ("drop_last", 1, "a bool"),
        ("dataset", 3, "a string"),
        ("betas", 0.5, "a list of floats"),
        ("betas", [0.5, "x"], "a list of floats"),  # the items are typed too
        ("image_shape", [1, 2.5, 4], "a list of ints"),  # a key the trainer adds from the data
        ("device", 0, "a string"),  # default None: typed by COMMON_TYPES
    ],
)
def test_make_config_refuses_a_value_of_another_type(key, value, takes):
    with pytest.raises(recipes.RecipeError) as error:
        train.make_config("gan", **{key: value})
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{key}={json.dumps(value)}: {key} takes {takes}")
    assert "gan's default" in message


def test_make_config_keeps_values_of_the_right_type_as_given():
    cfg = train.make_config(
        "gan",
        lr=1,
        n_critic=3,
        drop_last=False,
        betas=(0.5, 0.9),
        g_lr=2e-4,
        d_optimizer="adam",
        image_shape=[1, 12, 12],
    )
    assert cfg["lr"] == 1 and type(cfg["lr"]) is int  # an int is a float too, stored as given
    assert cfg["n_critic"] == 3 and cfg["drop_last"] is False and cfg["betas"] == (0.5, 0.9)
    assert cfg["g_lr"] == 2e-4 and cfg["d_optimizer"] == "adam"
    assert cfg["image_shape"] == [1, 12, 12]
    assert "momentum" not in cfg and "g_eps" not in cfg  # known keys left unset stay out


def test_a_loss_preset_types_its_own_keys():
    assert train.make_config("gan", loss="wgan", clip_value=0.02)["clip_value"] == 0.02
    with pytest.raises(recipes.RecipeError, match="clip_value: gan's recipe has no such key"):
        train.make_config("gan", clip_value=0.02)  # the ns loss has no clipping


def test_unknown_keys_name_the_nearest_known_ones():
    nearest = r"^n_critc: gan's recipe has no such key; nearest: n_critic"
    with pytest.raises(recipes.RecipeError, match=nearest):
        train.make_config("gan", n_critc=2)
    with pytest.raises(recipes.RecipeError, match="label_smoothing: sgan's recipe has no such key"):
        train.make_config("sgan", label_smoothing=0.1)
    with pytest.raises(recipes.RecipeError, match=r"zzzz: .* it has: .*batch_size"):  # none near
        train.make_config("stacked-ae", zzzz=1)
    with pytest.raises(recipes.RecipeError, match="model: gan's recipe has no such key"):
        train.with_settings("gan", {}, ["model=dcgan"])  # the model is chosen by name only


def test_recipe_errors_are_value_errors_for_old_callers():
    assert issubclass(recipes.RecipeError, ValueError)


# ----- --set texts
@pytest.mark.parametrize(
    "text, value",
    [
        ("drop_last=true", True),
        ("drop_last=False", False),
        ("drop_last=TRUE", True),
        ("lr=1e-4", 1e-4),
        ("lr=.5", 0.5),
        ("lr=2", 2),
        ("n_critic=3", 3),
        ("betas=[0.5, 0.9]", [0.5, 0.9]),
        ("d_batches=separate", "separate"),
        ("dataset=folder:/tmp/x", "folder:/tmp/x"),
        ("dataset=123", "123"),  # a string key keeps the text
    ],
)
def test_set_reads_each_text_as_its_keys_type(text, value):
    key = text.partition("=")[0]
    got = train.with_settings("gan", {"lr": None}, [text])[key]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    "text, takes",
    [
        ("lr=abc", "a float"),
        ("n_critic=2.5", "an int"),
        ("n_critic=1e3", "an int"),
        ("drop_last=1", "a bool (true or false)"),
        ("drop_last=yes", "a bool (true or false)"),
        ("betas=0.5,0.9", "a list of floats"),
        ("image_shape=[1, 12.5]", "a list of ints"),
    ],
)
def test_set_refuses_text_of_another_type_naming_key_value_and_type(text, takes):
    key, _, value = text.partition("=")
    with pytest.raises(recipes.RecipeError) as error:
        train.with_settings("gan", {}, [text])
    expected = f"--set {key}={value}: {key} takes {takes} (gan's default: "
    assert str(error.value).startswith(expected)


def test_set_merges_over_the_options_and_a_set_loss_chooses_the_preset():
    settings = ["lr=0.2", "loss=wgan", "clip_value=0.05"]
    merged = train.with_settings("gan", {"lr": 0.1, "epochs": 2}, settings)
    assert merged == {"lr": 0.2, "epochs": 2, "loss": "wgan", "clip_value": 0.05}
    assert train.make_config("gan", **merged)["n_critic"] == 5  # from the wgan preset
    with pytest.raises(recipes.RecipeError, match="expected KEY=VALUE"):
        train.with_settings("gan", {}, ["lr"])


def test_loss_names_come_from_the_registry():
    presets = [
        name
        for model in models.names()
        if models.is_built(model)
        for name in models.get(model).loss_presets
    ]
    assert recipes.loss_names() == list(dict.fromkeys(presets))
    assert set(recipes.loss_names()) == {"mm", "ns", "wgan", "wgan-gp", "ls"}


# ----- the resume rule
def test_resume_config_lets_only_epochs_change(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": "gan", "lr": 0.001, "epochs": 1}))
    run = str(tmp_path)
    assert train.resume_config(run, "gan", {"lr": 0.001, "epochs": 3, "seed": None})["epochs"] == 3
    with pytest.raises(train.RunError, match="only --epochs may change, but --lr 0.1 differs"):
        train.resume_config(run, "gan", {"lr": 0.1})
    with pytest.raises(train.RunError, match="is a gan run, not dcgan"):
        train.resume_config(run, "dcgan", {})


def test_a_family_declares_the_type_of_a_key_without_a_default(monkeypatch):
    monkeypatch.setattr(models.get("gan"), "recipe_types", {"warmup_steps": int})
    assert "warmup_steps" not in train.make_config("gan")
    assert train.make_config("gan", warmup_steps=3)["warmup_steps"] == 3
    with pytest.raises(recipes.RecipeError, match=r"warmup_steps=2.5: warmup_steps takes an int"):
        train.make_config("gan", warmup_steps=2.5)
    with pytest.raises(recipes.RecipeError, match="warmup_steps: dcgan's recipe has no such key"):
        train.make_config("dcgan", warmup_steps=3)  # declared by gan's class only


def test_keys_without_a_recipe_default_are_typed_by_the_family_that_reads_them():
    """d_batches (read by the GAN base's step) and label_seed (sgan's labelled subset) are declared
    in those families' recipe_types, not in a table of the recipes module."""
    assert not hasattr(recipes, "UNDECLARED_TYPES")
    assert train.make_config("gan", d_batches="separate")["d_batches"] == "separate"
    assert train.make_config("sgan", label_seed=4)["label_seed"] == 4
    with pytest.raises(recipes.RecipeError, match=r"d_batches=3: d_batches takes a string"):
        train.make_config("gan", d_batches=3)
    with pytest.raises(recipes.RecipeError, match=r"label_seed=\"x\": label_seed takes an int"):
        train.make_config("sgan", label_seed="x")
    for model, key in (("vae", "d_batches"), ("progan", "d_batches"), ("gan", "label_seed")):
        with pytest.raises(recipes.RecipeError, match=f"{key}: {model}'s recipe has no such key"):
            train.make_config(model, **{key: 1})


def test_dtype_takes_float32_or_float64_and_refuses_anything_else_in_one_line():
    assert train.make_config("dcgan")["dtype"] == "float32"
    assert train.make_config("dcgan", dtype="float64")["dtype"] == "float64"
    for overrides in ({"dtype": "float16"}, train.with_settings("vae", {}, ["dtype=int8"])):
        with pytest.raises(recipes.RecipeError) as error:
            train.make_config("vae", **overrides)
        value = overrides["dtype"]
        assert str(error.value) == f'dtype="{value}": expected float32 or float64'
