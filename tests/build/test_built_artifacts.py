"""Checks on `sam build` output (run by `make build-check`, after `sam build`).

Lambda loads the layers and the function code unzipped into a 250 MB budget, on arm64:
every native library must be aarch64, and each function plus its layers must fit.
"""

from pathlib import Path

import pytest

from scripts import locks
from stack_model.template import load_template

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
ELF_MACHINE_AARCH64 = 183


def _built_template() -> dict:
    path = BUILD / "template.yaml"
    assert path.exists(), "run `sam build` first (make build-check does)"
    return load_template(path)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def _native_libraries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.so*") if p.is_file() and p.read_bytes()[:4] == b"\x7fELF"]


def test_built_template_points_at_built_code():
    resources = _built_template()["Resources"]
    assert (
        BUILD / resources["ImageProcessorFunction"]["Properties"]["CodeUri"] / "app.py"
    ).exists()
    assert (BUILD / resources["CsvSummarizerFunction"]["Properties"]["CodeUri"] / "app.py").exists()


@pytest.mark.parametrize("layer", ["PillowLayer", "PyarrowLayer"])
def test_native_code_in_layers_is_aarch64(layer):
    libraries = _native_libraries(BUILD / layer)
    assert libraries, f"{layer} has no native libraries: was it built?"
    wrong = [str(p.relative_to(BUILD)) for p in libraries if _elf_machine(p) != ELF_MACHINE_AARCH64]
    assert wrong == []


def _dist_infos(layer: str) -> set[str]:
    """`name-version` of each distribution installed in a built layer."""
    found = set()
    for dist_info in (BUILD / layer / "python").glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        found.add(f"{locks.normalized(name)}-{version}")
    return found


@pytest.mark.parametrize(
    ("layer", "lock"),
    [
        ("RuntimeLayer", locks.RUNTIME),
        ("PillowLayer", locks.PILLOW),
        ("PyarrowLayer", locks.PYARROW),
    ],
)
def test_each_layer_holds_exactly_its_lock(layer, lock):
    """Same names, same versions, nothing extra: the build resolved nothing on its own."""
    locked = {
        f"{name}-{version}"
        for name, version in locks.pins((ROOT / lock.output).read_text()).items()
    }
    assert locked
    assert _dist_infos(layer) == locked


def test_pillow_layer_holds_pillow_core():
    cores = list((BUILD / "PillowLayer" / "python" / "PIL").glob("_imaging.*.so"))
    assert len(cores) == 1 and "aarch64" in cores[0].name
    assert _elf_machine(cores[0]) == ELF_MACHINE_AARCH64


def test_runtime_layer_holds_the_shared_package_and_its_dependencies():
    python = BUILD / "RuntimeLayer" / "python"
    assert (python / "pipeline_runtime" / "outcomes.py").exists()
    assert (python / "file_signatures.py").exists()  # imported by both cores as well
    assert (python / "input_rejection.py").exists()  # so is this
    assert (python / "aws_lambda_powertools").is_dir()
    assert (python / "tenacity").is_dir()
    assert not (python / "pipeline_runtime" / "__pycache__").exists()


def test_function_packages_hold_only_their_own_code():
    image = {p.name for p in (BUILD / "ImageProcessorFunction").glob("*.py")}
    csv = {p.name for p in (BUILD / "CsvSummarizerFunction").glob("*.py")}
    assert "variants.py" in image and "summarize.py" in csv
    assert not (image & csv) - {"app.py"}, "the functions share no module but app.py"
    assert not any(
        (BUILD / fn / "tests").exists()
        for fn in ("ImageProcessorFunction", "CsvSummarizerFunction")
    )


@pytest.mark.parametrize(
    ("function", "layers"),
    [
        ("ImageProcessorFunction", ["RuntimeLayer", "PillowLayer"]),
        ("CsvSummarizerFunction", ["RuntimeLayer", "PyarrowLayer"]),
    ],
)
def test_function_and_layers_fit_lambdas_unzipped_limit(function, layers):
    sizes = {name: _size(BUILD / name) for name in [function, *layers]}
    assert sum(sizes.values()) < LAMBDA_UNZIPPED_LIMIT, sizes


def test_build_is_for_arm64():
    resources = _built_template()["Resources"]
    for name in ("PillowLayer", "PyarrowLayer", "RuntimeLayer"):
        assert resources[name]["Properties"]["CompatibleArchitectures"] == ["arm64"]
