"""What people see: the widget script, the demo page and the inbox."""
