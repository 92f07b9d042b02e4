"""Channel adapters: each turns platform input into Incoming and renders Replies back."""
