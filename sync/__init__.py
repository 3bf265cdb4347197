"""The wire contract shared by device and server (``sync.protocol``) and the device's sync agent."""
