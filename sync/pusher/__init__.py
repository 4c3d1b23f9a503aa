"""Pusher Channels: signatures, the WebSocket subscriber and the REST publisher."""
