"""The device's sync agent: enrolment, delivery of the local outbox, heartbeats, config pulls."""
