"""AI auto-segmentation (MONAI bundles); torch and MONAI are imported lazily inside."""
