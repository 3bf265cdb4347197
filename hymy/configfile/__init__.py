"""Config files (TOML) read with one voice, for the device config (``kiosk.config``), its pin map
(``hardware.pins``) and the provisioning file (``deploy.provisionfile``):

- ``section``: ``Section``, the base of every table of a config file (unknown keys are errors, values
  are taken as written);
- ``messages``: what pydantic finds wrong, as ``line N: key: what is wrong; use what is valid``;
- ``syntax``: TOML syntax errors in the same words;
- ``lines``: the line of a key in the TOML source, for those messages.

Pure: text in, models or sentences out. ``messages`` and ``syntax`` are imported only when something
is wrong, so a good config costs a process's start-up nothing.
"""
