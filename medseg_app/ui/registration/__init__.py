"""Registration ▸ Register layer to reference… (automatic, in the background, with progress and Cancel), the
manual adjustment dock (translate / rotate in mm and degrees, key nudges, undo) and File ▸ Export / Import
registration… (DICOM REG or ITK .tfm).

Public modules: ``registration_dialog`` (RegistrationDialog), ``alignment_dock`` (AlignmentDock), ``alignment_mouse``
(AlignmentMouse, the drag on the slice views),
``registration_files`` (export_registration / import_registration), ``registration_menu`` (RegistrationMenu,
what main_window wires in).
"""
