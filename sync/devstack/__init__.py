"""Development stack: demo FerraWin data, the Manager stub, the local Pusher relay, the demo."""
