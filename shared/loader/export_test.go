package loader

// SetBeforeExec sets the hook that runs between the checksum check and the start (tests).
func SetBeforeExec(f func(original string)) { beforeExec = f }
