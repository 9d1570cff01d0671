"""Keyboard shortcuts in the real main window: every key of the one shortcut table does what it says (key events
sent to the views, effects counted), the tool numbers follow the tool panel's order at run time, Help ▸ Keyboard
shortcuts lists exactly what is installed, and the README's table is the table's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.volume import Volume
from medseg_app.ui.shortcuts.shortcut_table import SHORTCUTS, readme_rows

README = Path(__file__).resolve().parents[2] / "README.md"
SIZE = (48, 40, 30)
CENTRE = (20, 18, 15)


@pytest.fixture
def window(main_window, qtbot):
    k, j, i = np.ogrid[: SIZE[2], : SIZE[1], : SIZE[0]]
    ball = ((i - CENTRE[0]) ** 2 + (j - CENTRE[1]) ** 2 + ((k - CENTRE[2]) * 2.0) ** 2) <= 36
    geometry = ImageGeometry(size=SIZE, spacing=(1.0, 1.0, 2.0), origin=(0.0, 0.0, 0.0))
    main_window.state.set_volume(Volume(np.where(ball, 200, 0).astype(np.int16), geometry, modality="CT", units="HU"))
    main_window.ball = ball
    main_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main_window)
    axial = main_window.grid.slice_view("axial")
    axial.setFocus()
    qtbot.waitUntil(axial.hasFocus)
    yield main_window
    main_window.tool_worker.cancel()
    main_window.tool_worker.wait()


def press(widget, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(widget, key, modifiers)


def test_number_keys_select_the_tool_panel_tools_in_order_and_0_navigates(window):
    axial = window.grid.slice_view("axial")
    ids = [tool_id for tool_id in window.tool_panel.buttons if tool_id != "navigate"]
    assert len(ids) >= 9
    for number in range(1, 10):
        press(axial, getattr(Qt.Key, f"Key_{number}"))
        assert window.tools.active.id == ids[number - 1]
        assert window.tool_panel.buttons[ids[number - 1]].isChecked()
    press(axial, Qt.Key.Key_0)
    assert window.tools.active is None and window.tool_panel.buttons["navigate"].isChecked()


def test_the_tool_numbers_follow_the_panel_order_at_run_time(qtbot, settings, monkeypatch):
    from medseg_app.ui.main_window import MainWindow
    from medseg_app.ui.tools import tool_controller

    registry_order = tool_controller.make_tools()
    reversed_tools = dict(reversed(list(registry_order.items())))
    monkeypatch.setattr(tool_controller, "make_tools", lambda: dict(reversed_tools))
    other = MainWindow(settings=settings, with_three_d=False)
    qtbot.addWidget(other)
    other.sessions.ask_unsaved = lambda: "discard"
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is other)
    other.grid.slice_view("axial").setFocus()
    press(other.grid.slice_view("axial"), Qt.Key.Key_1)
    assert other.tools.active.id == list(registry_order)[-1]  # the panel's first button, not the registry's
    assert other.shortcuts.rows()[0] == ("1", f"Tool: {other.tools.active.title}", "window")


def test_esc_cancels_the_preview_and_enter_applies_it_then_ctrl_z_ctrl_y(window, qtbot):
    axial = window.grid.slice_view("axial")
    segment = window.state.segmentation.add_segment("Lesion")
    window.tool_panel.select("grow")
    window.tools.add_seed(CENTRE)
    qtbot.waitUntil(lambda: window.tools.preview is not None, timeout=10000)
    dropped = []
    window.tools.preview_changed.connect(lambda has: dropped.append(has))
    press(axial, Qt.Key.Key_Escape)
    assert window.tools.preview is None and dropped == [False] and window.tools.seeds == []
    assert segment.mask.count() == 0
    window.tools.add_seed(CENTRE)
    qtbot.waitUntil(lambda: window.tools.preview is not None, timeout=10000)
    press(axial, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.tools.preview is None and not window.tool_worker.busy, timeout=10000)
    np.testing.assert_array_equal(segment.mask.to_dense(), window.ball)
    press(axial, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert segment.mask.count() == 0
    press(axial, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert segment.mask.count() == window.ball.sum()


def test_plus_and_minus_change_the_brush_diameter_and_its_field(window):
    axial = window.grid.slice_view("axial")
    window.tool_panel.select("paint")
    tool = window.tools.active
    tool.set(diameter_mm=8.0)
    press(axial, Qt.Key.Key_Plus)
    assert tool.values["diameter_mm"] == 10.0
    assert window.tool_panel.options_widget(tool).editors["diameter_mm"].value() == 10.0
    press(axial, Qt.Key.Key_Equal)
    press(axial, Qt.Key.Key_Minus)
    press(axial, Qt.Key.Key_Minus)
    assert tool.values["diameter_mm"] == pytest.approx(8.0, abs=0.1)
    window.tool_panel.select("erase")
    press(axial, Qt.Key.Key_Minus)
    assert window.tools.active.values["diameter_mm"] < 5.0


def test_typing_in_a_field_keeps_its_keys(window, qtbot):
    field = QLineEdit(window.tool_panel)
    field.show()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    QTest.keyClicks(field, "12+")
    assert field.text() == "12+" and window.tools.active is None
    window.grid.slice_view("axial").setFocus()
    qtbot.waitUntil(lambda: all(s.isEnabled() for s in window.shortcuts.window_shortcuts))
    press(window.grid.slice_view("axial"), Qt.Key.Key_2)
    assert window.tools.active is not None


def test_slice_view_keys_step_page_and_fit(window):
    axial = window.grid.slice_view("axial")
    start = window.state.slice_index("axial")
    up = axial.slice_step_up()
    press(axial, Qt.Key.Key_Up)
    assert window.state.slice_index("axial") == start + up
    press(axial, Qt.Key.Key_Left)
    press(axial, Qt.Key.Key_Down)
    assert window.state.slice_index("axial") == start - up
    press(axial, Qt.Key.Key_PageUp)
    assert window.state.slice_index("axial") == start + 9 * up
    press(axial, Qt.Key.Key_PageDown)
    assert window.state.slice_index("axial") == start - up
    axial.viewport.zoom_about(2.0, axial.rect().center())
    press(axial, Qt.Key.Key_F)
    assert axial.viewport.is_fitted


def test_r_e_d_measure(window):
    axial = window.grid.slice_view("axial")
    window.tool_panel.select("paint")
    press(axial, Qt.Key.Key_R)
    assert window.measurement_interaction.mode == "ruler" and window.tools.active is None
    press(axial, Qt.Key.Key_E)
    assert window.measurement_interaction.mode == "ellipse"
    press(axial, Qt.Key.Key_E)
    assert window.measurement_interaction.mode is None
    press(axial, Qt.Key.Key_R)
    press(axial, Qt.Key.Key_Escape)
    assert window.measurement_interaction.mode is None
    segment = window.state.segmentation.add_segment("Ball", mask=window.ball)
    window.state.segmentation.set_active(segment.id)
    press(axial, Qt.Key.Key_D)
    assert [m.kind for m in window.state.measurements.items.values()] == ["ruler", "ruler"]


def _installed(window) -> set[str]:
    keys = set()
    for shortcut in window.findChildren(QShortcut):
        keys.add(shortcut.key().toString())
    for action in window.findChildren(QAction):
        keys.update(sequence.toString() for sequence in action.shortcuts())
    return keys


def test_the_help_dialog_lists_every_installed_shortcut_and_nothing_else(window):
    listed = window.shortcuts.show_dialog().listed()
    dialog_keys = {key for keys, _what, _where in listed for key in keys.split(" / ")}
    assert dialog_keys == _installed(window) - {str(n) for n in range(len(window.shortcuts.tool_ids()) + 1, 10)}
    assert ("0", SHORTCUTS[1].description, "window") in listed
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert any(a.text() == "&Keyboard shortcuts…" for a in help_menu.actions())
    assert window.undo_action.shortcut() == QKeySequence("Ctrl+Z")  # menu items show the table's keys


def test_the_readme_table_is_the_shortcut_table():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Keyboard shortcuts", 1)[1]
    lines = section.splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        table.append(line)
    assert table == readme_rows()
