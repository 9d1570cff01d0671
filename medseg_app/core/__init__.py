"""Pure data model: volumes, geometry, errors. Imports numpy (and SimpleITK where needed) only: no Qt, VTK or torch."""
