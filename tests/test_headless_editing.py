"""The README's headless example, run as written: load, segments, threshold, grow, sphere, margin, islands,
undo, save a label map; each step checked against an independent expectation."""

from __future__ import annotations

import re

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from conftest import REPO


def _readme_example() -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(r"<!-- headless-example -->\s*```python\n(.*?)```", text, re.S)
    assert match, "the README lost its headless example"
    return match.group(1)


def test_readme_headless_example_runs_and_does_what_it_says(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    code = _readme_example().replace("gtv_bone.nii.gz", str(tmp_path / "gtv_bone.nii.gz"))
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    editor, ct = namespace["editor"], namespace["ct"]

    bone = editor.mask("Bone")
    expected_bone = ct.array >= 226
    labels, _ = ndimage.label(expected_bone)
    sizes = np.bincount(labels.ravel())[1:]
    np.testing.assert_array_equal(bone, labels == 1 + int(np.argmax(sizes)))  # threshold, then keep largest

    tumour, grown, seed = editor.mask("Tumour"), namespace["grown"], namespace["seed"]
    assert grown[seed[2], seed[1], seed[0]] and namespace["grown_voxels"] == grown.sum() > 1000
    assert namespace["undone"] == "Paint"  # the sphere dab was one undo step, and it is gone:
    # what is left is the grown region plus a 3 mm margin (Euclidean, in mm), boundary voxels aside.
    distance = ndimage.distance_transform_edt(~grown, sampling=ct.spacing[::-1])
    expected = distance <= 3.0
    assert (tumour & ~grown).sum() > 0 and not (grown & ~tumour).any()
    assert np.count_nonzero(tumour != expected) < 0.02 * expected.sum()
    centre = (29, 10, 10)
    assert not expected[centre] and not tumour[centre]  # the undone sphere left nothing behind

    image = sitk.ReadImage(str(tmp_path / "gtv_bone.nii.gz"))
    np.testing.assert_allclose(image.GetOrigin(), ct.origin, atol=1e-4)
    saved = sitk.GetArrayFromImage(image)
    assert set(np.unique(saved)) == {0, 1, 2}
    assert (tmp_path / "gtv_bone.json").is_file()
