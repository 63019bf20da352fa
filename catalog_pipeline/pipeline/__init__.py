"""Provider-independent machinery: HTTP policy, money, the normalized frame, validation."""
