"""The Segments dock: add, delete, rename, recolour, show / hide, lock, opacity, the active segment, its source
(segment_list_panel); Segment ▸ Copy segments to another layer… (segment_transfer, copy_to_layer_dialog)."""
