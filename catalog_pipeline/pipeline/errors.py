"""The one error a provider fetch raises; its message names the cause and never carries a secret."""


class ProviderFetchError(Exception):
    """The provider's model list could not be fetched or decoded; the message says why."""
