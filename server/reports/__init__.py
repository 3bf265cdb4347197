"""Daily and weekly e-mail reports per store: data (``data``), rendering (``render``) and the
scheduler that sends them after closing time in the store's time zone (``scheduler``)."""
