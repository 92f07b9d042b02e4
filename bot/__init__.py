"""TroLy: the assistant chatbot of a commune public-service centre."""
