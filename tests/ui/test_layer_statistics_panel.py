"""The Statistics dock shows one column group per overlay: SUVmax, SUVpeak, SUVmean, MTV and TLG of the sample's
PET for a GTV drawn on its CT; the exports carry the same numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from medseg_app.core.layer_statistics import layer_statistics
from medseg_app.core.layer_transform import LayerTransform
from medseg_app.io.image_files import read_image_file
from medseg_app.io.load import load_volume

from .ui_test_data import SAMPLE_CT_MASK, SAMPLE_STUDY


@pytest.fixture(scope="module")
def ct_pet():
    return (load_volume(SAMPLE_STUDY / "CT" / "dicom" / "image"), load_volume(SAMPLE_STUDY / "PET" / "dicom" / "image"),
            read_image_file(SAMPLE_CT_MASK).array > 0)


@pytest.fixture
def panel(main_window, qtbot):
    main_window.statistics.show()
    main_window.statistics.raise_()
    qtbot.waitUntil(main_window.statistics.isVisible)
    yield main_window.statistics
    main_window.statistics.shutdown()


def _wait(panel, qtbot, key):
    qtbot.waitUntil(lambda: panel.up_to_date and panel.table.rowCount() == 1 and key in panel.table.keys(),
                    timeout=60000)


def test_pet_columns_appear_with_the_layer_and_follow_its_transform(main_window, panel, qtbot, ct_pet, tmp_path,
                                                                     monkeypatch):
    ct, pet, gtv = ct_pet
    state = main_window.state
    state.set_volume(ct)
    state.segmentation.add_segment("GTV", mask=gtv)
    qtbot.waitUntil(lambda: panel.up_to_date and panel.table.rowCount() == 1, timeout=60000)
    assert not any(key.startswith("PET_") for key in panel.table.keys())
    layer = state.study.add_layer(pet)
    _wait(panel, qtbot, "PET_tlg")
    expected = layer_statistics(gtv, ct.geometry, pet, layer.transform)
    headers = panel.table.headers()
    for header in ("PET SUVmax", "PET SUVpeak", "PET SUVmean", "PET MTV (mL)", "PET TLG (SUV·mL)"):
        assert header in headers
    assert not any("units" in h or "read_on" in h for h in headers)
    assert panel.table.text(0, "PET_suv_max") == f"{expected['suv_max']:.3f}"
    assert panel.table.text(0, "PET_tlg") == f"{expected['tlg']:.1f}"
    row = panel.rows()[0]
    assert row["PET_tlg"] == pytest.approx(row["PET_suv_mean"] * row["PET_mtv_ml"], rel=1e-12)
    assert panel.details.value_text("PET_suv_peak") == f"{expected['suv_peak']:.3f}"
    # a display change does not recompute; a new transform does
    computed = panel.rows()
    state.study.set_display(layer.id, opacity=0.2)
    assert panel.rows() == computed and panel.up_to_date
    shift = LayerTransform.rigid((pet.spacing[0] * 2, 0.0, 0.0))
    state.study.set_transform(layer.id, shift)
    moved = layer_statistics(gtv, ct.geometry, pet, shift)
    qtbot.waitUntil(lambda: panel.up_to_date and panel.table.rowCount() == 1 and
                    panel.rows()[0].get("PET_suv_mean") == pytest.approx(moved["suv_mean"]), timeout=60000)
    assert not np.isclose(moved["suv_mean"], expected["suv_mean"])
    target = tmp_path / "stats.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "JSON (*.json)"))
    panel.export("json")
    (written,) = json.loads(target.read_text())
    assert written["PET_suv_mean"] == pytest.approx(moved["suv_mean"]) and written["PET_units"] == "SUV"
    state.study.remove_layer(layer.id)
    qtbot.waitUntil(lambda: panel.up_to_date and panel.table.rowCount() == 1 and
                    "PET_tlg" not in panel.table.keys(), timeout=60000)
