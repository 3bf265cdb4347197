"""The whole system put together: ``hymy demo``, first-boot provisioning, updates with rollback, and the
press simulator's delivery through a real sync agent.

The top layer (see docs/architecture.md): each of these needs several of ``kiosk``, ``hardware``,
``sync`` and ``server`` at once, which no package below may import together. Nothing below imports
``deploy``; the root command ``hymy.cli`` names its commands as strings (``"deploy.cli:demo"``).
"""
