capture_enabled = false
