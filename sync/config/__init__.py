"""Settings: the model (`model`), where values come from (`loading`), their checks (`validation`), storing (`saving`).

Import from the submodule that does the job; this package re-exports nothing.
"""
