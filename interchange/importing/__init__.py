"""The registry import's stages, one job each (docs/data-formats.md#files-carereg-reads-the-registry-import):

- columns: which files and columns the format has, and reading a file's rows as text;
- limits: how much one import may hold, for the upload page and the command alike;
- parsing: each row's text into typed values, or its row-level errors (pure, no database);
- placement: the rows matched to the registry's clinics, staff, patients and episodes;
- writing: the one transaction's writes, all through the apps' services.

interchange.importer runs them in order, all or nothing, and records the run.
"""
