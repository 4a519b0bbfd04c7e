"""The classifier, the D-features probe, the Evaluator and the scripts that use them, on tiny
synthetic data (the shipped classifier and CIFAR-10 are only checked where named)."""
import csv
import json
import shutil

import numpy as np
import pytest
from PIL import Image

import tinygan as tg
from faults import one_line
from support import EXAMPLES, load_example, write_image_folder
from tinygan import io
from tinygan.gan import classifier, dcgan, evaluation, probe

evaluate = load_example("evaluate")
train_cifar = load_example("train_cifar")
train_classifier = load_example("train_classifier")
generate = load_example("generate")


def coloured_images(count, seed, classes=2):
    """uint8 (count, 3, 32, 32) noisy images whose mean colour is their class, and the labels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % classes
    colours = np.array([[200, 40, 40], [40, 40, 200], [40, 200, 40]])[labels]  # (count, 3)
    noise = rng.normal(0, 20, (count, 3, 32, 32))
    return np.clip(colours[:, :, None, None] + noise, 0, 255).astype(np.uint8), labels


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A small untrained classifier's weights file, in the shipped file's format."""
    tg.manual_seed(0)
    path = tmp_path_factory.mktemp("classifier") / "classifier.npz"
    io.save_checkpoint(path, {"classifier": classifier.Classifier(width=4)}, {},
                       {"model": {"width": 4, "classes": 10}, "test_accuracy": 0.1})
    return path


def test_classifier_shapes_and_probabilities(weights):
    model, meta = classifier.load_pretrained(weights)
    assert meta["test_accuracy"] == 0.1 and not model.training
    images = np.zeros((3, 3, 32, 32), np.float32)
    features, probabilities = classifier.predict(model, images, batch_size=2)
    assert features.shape == (3, 32) and probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-6)


def test_shipped_classifier_loads_and_states_its_accuracy():
    model, meta = classifier.load_pretrained()
    assert 0.5 < meta["test_accuracy"] <= 1 and "train_classifier.py" in meta["command"]
    assert model(tg.tensor(np.zeros((2, 3, 32, 32), np.float32))).shape == (2, 10)


def test_train_classifier_script_learns_two_colour_classes(tmp_path, capsys):
    for split, count in (("train", 64), ("test", 16)):
        images, labels = coloured_images(count, seed=len(split))
        for i, (image, label) in enumerate(zip(images, labels)):
            folder = tmp_path / "data" / split / f"class{label}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.transpose(1, 2, 0)).save(folder / f"{i:03d}.png")
    out = tmp_path / "clf.npz"
    args = ["--data", tmp_path / "data", "--epochs", 3, "--lr", 1e-2, "--batch-size", 16,
            "--width", 4, "--out", out]
    status = train_classifier.main([str(a) for a in args])
    assert status == 0
    model, meta = classifier.load_pretrained(out)
    assert meta["test_accuracy"] == 1.0 and meta["steps"] == 12
    assert "test accuracy 1.0000" in capsys.readouterr().out


def test_discriminator_features_pool_every_activation_to_4x4():
    tg.manual_seed(0)
    D = dcgan.Discriminator(ndf=4)
    features = probe.discriminator_features(D, np.zeros((3, 3, 32, 32), np.float32), batch_size=2)
    assert features.shape == (3, (4 + 8 + 16) * 16)  # three activations, 16 cells each


def test_linear_probe_separates_separable_features_and_not_random_labels():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    separable = rng.normal(0, 1, (400, 8)) + 4 * np.eye(8)[labels]
    accuracy = probe.linear_probe(separable[:300], labels[:300], separable[300:], labels[300:],
                                  epochs=100, lr=1e-2)
    assert accuracy > 0.95
    shuffled = rng.permutation(labels)
    chance = probe.linear_probe(separable[:300], shuffled[:300], separable[300:], shuffled[300:],
                                epochs=100, lr=1e-2)
    assert chance < 0.5


def test_generate_is_seeded_and_leaves_g_in_training_mode():
    tg.manual_seed(0)
    G = dcgan.Generator(nz=8, ngf=4)
    first = evaluation.generate(G, 5, seed=1, batch_size=2)
    assert first.shape == (5, 3, 32, 32) and G.training
    np.testing.assert_array_equal(first, evaluation.generate(G, 5, seed=1, batch_size=2))
    assert not np.array_equal(first, evaluation.generate(G, 5, seed=2, batch_size=2))
    running = evaluation.generate(G, 5, seed=1, batch_size=2, batch_statistics=False)
    assert not np.array_equal(first, running) and G.training
    buffers = [b.numpy().copy() for b in G.buffers()]
    evaluation.generate(G, 5, seed=1, batch_size=2)
    for before, after in zip(buffers, G.buffers()):
        np.testing.assert_array_equal(before, after.numpy())  # running statistics untouched


def test_classifier_input_scales_uint8_and_averages_64_down_to_32():
    images = np.full((1, 3, 64, 64), 255, np.uint8)
    images[..., ::2, ::2] = 0
    out = evaluation.classifier_input(images)
    assert out.shape == (1, 3, 32, 32) and out.dtype == np.float32
    np.testing.assert_allclose(out, 0.5)  # (3 * 1 + (-1)) / 4
    with pytest.raises(ValueError, match="square multiples of 32 pixels, got 48x48"):
        evaluation.classifier_input(np.zeros((1, 3, 48, 48), np.float32))


def synthetic_evaluator(weights, count=32, probe_train=32):
    return evaluation.Evaluator(coloured_images(48, seed=1), coloured_images(64, seed=2),
                                count=count, probe_train=probe_train,
                                network=classifier.load_pretrained(weights))


def test_evaluator_rows_real_images_beat_an_untrained_generator(weights):
    evaluator = synthetic_evaluator(weights)
    real = evaluator.real_row()
    tg.manual_seed(0)
    untrained = evaluator.generator_row(dcgan.Generator(nz=8, ngf=4), dcgan.Discriminator(ndf=4))
    for row in (real, untrained):
        assert {"swd", "swd_32", "swd_16", "frechet", "score", "score_std"} <= set(row)
        assert 1 <= row["score"] <= 10 and 0 <= row["classes_covered"] <= 10
        assert sum(row["class_shares"]) == pytest.approx(1, abs=1e-3)
    assert real["swd"] < untrained["swd"] and real["frechet"] < untrained["frechet"]
    assert 0 <= untrained["probe"] <= 1
    with pytest.raises(ValueError, match="count must be in \\[10, 48\\]"):
        synthetic_evaluator(weights, count=49)
    with pytest.raises(ValueError, match="count must be in \\[10, 48\\]"):
        synthetic_evaluator(weights, count=9)


def use_synthetic_evaluator(monkeypatch, weights):
    monkeypatch.setattr(evaluation.Evaluator, "cifar10", classmethod(
        lambda cls, count, probe_train=0, seed=0, log=None, network=None: synthetic_evaluator(
            weights, min(count, 48), probe_train)))


def test_eval_every_writes_metrics_and_survives_resume(weights, tmp_path, monkeypatch, capsys):
    use_synthetic_evaluator(monkeypatch, weights)
    images = write_image_folder(tmp_path / "images", count=32)
    args = ["--nz", "8", "--ngf", "4", "--ndf", "4", "--batch-size", "8", "--data", images,
            "--out", tmp_path / "run", "--eval-every", "1", "--eval-samples", "16"]
    assert train_cifar.main([str(a) for a in args + ["--epochs", "1"]]) == 0
    assert train_cifar.main([str(a) for a in args + ["--epochs", "2", "--resume"]]) == 0
    assert "eval epoch 2: SWD x1e3" in capsys.readouterr().out
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [float(r["epoch"]) for r in rows] == [1, 2]
    assert all(np.isfinite(float(r[k])) for r in rows for k in ("swd", "frechet", "score"))
    assert (tmp_path / "run" / "metrics.png").is_file()
    assert (tmp_path / "run" / "classes.png").is_file()


def test_evaluate_script_prints_a_table_and_writes_json_and_plot(weights, tmp_path, monkeypatch,
                                                                capsys):
    use_synthetic_evaluator(monkeypatch, weights)
    images = write_image_folder(tmp_path / "images", count=16)
    args = ["--nz", "8", "--ngf", "4", "--ndf", "4", "--batch-size", "8", "--data", images,
            "--out", tmp_path / "run", "--epochs", "1"]
    assert train_cifar.main([str(a) for a in args]) == 0
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    report = evaluate.measure(evaluate.parse_args(
        [str(checkpoint), "--baselines", "--samples", "32", "--probe-train", "16",
         "--json", str(tmp_path / "e.json"), "--plot", str(tmp_path / "m.png")]))
    printed = capsys.readouterr().out
    assert "real train images (floor)" in printed and "untrained G (ceiling)" in printed
    saved = json.loads((tmp_path / "e.json").read_text())
    assert saved["rows"] == report["rows"] and len(saved["rows"]) == 3
    assert saved["rows"][2]["step"] == 2 and 0 <= saved["rows"][2]["probe"] <= 1
    assert (tmp_path / "m.png").is_file()


def test_evaluate_and_generate_sample_the_ema_generator_unless_raw_g(weights, tmp_path,
                                                                     monkeypatch, capsys):
    use_synthetic_evaluator(monkeypatch, weights)
    images = write_image_folder(tmp_path / "images", count=16)
    args = ["--nz", "8", "--ngf", "4", "--ndf", "4", "--batch-size", "8", "--data", images,
            "--out", tmp_path / "run", "--epochs", "1", "--ema", "0.9"]
    assert train_cifar.main([str(a) for a in args]) == 0
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    saved = io.load_checkpoint(checkpoint)["modules"]
    rows = {}
    for flags in ([], ["--raw-g"]):
        G = evaluate.load_models(checkpoint, raw_g=bool(flags))[0]
        expected = saved["G" if flags else "G_ema"]
        for name, value in G.state_dict().items():
            np.testing.assert_array_equal(value, expected[name], err_msg=name)
        report = evaluate.measure(evaluate.parse_args(
            [str(checkpoint), "--samples", "16", "--probe-train", "0",
             "--json", str(tmp_path / "e.json")] + flags))
        rows[tuple(flags)] = report["rows"][0]
    assert rows[()]["label"].endswith("(EMA G)") and rows[("--raw-g",)]["label"].endswith("(G)")
    assert rows[()]["swd"] != rows[("--raw-g",)]["swd"]
    assert generate.main([str(checkpoint), "--n", "4", "--rows", "1", "--steps", "2",
                          "--out", str(tmp_path / "g")]) == 0
    assert "sampling the EMA G of" in capsys.readouterr().out


def test_evaluate_script_refuses_a_file_that_is_not_a_checkpoint(weights, tmp_path,
                                                                 monkeypatch, capsys):
    use_synthetic_evaluator(monkeypatch, weights)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    assert evaluate.main([str(bad), "--samples", "16"]) == 2
    err = capsys.readouterr().err
    assert "bad.npz: not a tinygan checkpoint (not a .npz archive at all)" in err


def test_inception_weights_get_an_explanation_not_a_fake_number(capsys):
    with pytest.raises(SystemExit) as exit_info:
        evaluate.parse_args(["--inception-weights", "pt_inception.pth"])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert "pt_inception.pth" in message and "tinygan has no Inception-v3 yet" in message


def test_train_classifier_never_writes_the_shipped_classifier(monkeypatch, capsys):
    """issue 27.2: the default --out is under runs/, and the shipped file, however named, is
    refused before anything is read or trained."""
    default = train_classifier.parse_args([]).out
    assert default.startswith("runs/") and not classifier.is_shipped(default)
    monkeypatch.chdir(EXAMPLES.parent)
    for out in (str(classifier.WEIGHTS), "tinygan/assets/cifar10_classifier.npz",
                "tinygan/gan/../assets/cifar10_classifier.npz"):
        with pytest.raises(SystemExit) as exit_info:
            train_classifier.parse_args(["--out", out])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and one_line(err)
        assert f"--out {out} is the shipped classifier" in err
    assert classifier.file_sha256(classifier.WEIGHTS) == classifier.WEIGHTS_SHA256


def test_a_changed_shipped_classifier_is_refused_with_how_to_restore_it(weights, tmp_path,
                                                                        monkeypatch, capsys):
    """issue 27.2: weights retrained over the shipped file gave a Fréchet distance of 0.005
    where the shipped ones give 87.89, silently; now its checksum is checked wherever it is
    loaded (evaluate.py, train_cifar.py --eval-every), and a user's own file given with
    --classifier is used, and said to be."""
    changed = tmp_path / "assets" / "cifar10_classifier.npz"
    changed.parent.mkdir()
    shutil.copy(weights, changed)
    monkeypatch.setattr(classifier, "WEIGHTS", changed)
    with pytest.raises(ValueError, match="was changed .*restore it with `git checkout "
                                         "tinygan/assets/cifar10_classifier.npz`"):
        classifier.load_pretrained()
    with pytest.raises(ValueError, match="was changed"):
        evaluation.Evaluator(coloured_images(48, seed=1), coloured_images(64, seed=2), count=16,
                             probe_train=0)
    status = evaluate.main(["--baselines", "--samples", "16", "--json", str(tmp_path / "e.json")])
    err = capsys.readouterr().err
    assert status == 2 and one_line(err) and f"{changed} was changed" in err
    assert not (tmp_path / "e.json").exists()

    used = {}
    monkeypatch.setattr(evaluation.Evaluator, "cifar10", classmethod(
        lambda cls, count, probe_train, seed, network: used.update(network=network) or
        synthetic_evaluator(weights, count, probe_train)))
    report = evaluate.measure(evaluate.parse_args(
        ["--baselines", "--samples", "16", "--probe-train", "0", "--classifier", str(weights),
         "--json", str(tmp_path / "e.json")]))
    assert f"classifier: your own {weights}, not the shipped one" in capsys.readouterr().out
    assert used["network"][1]["test_accuracy"] == 0.1 and report["classifier_file"] == str(weights)
