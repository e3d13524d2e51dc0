"""What a page shows, read off Django's test responses: its list's rows and its messages."""


def shown(response) -> list:
    """The primary keys of the rows the list page shows, in order."""
    return [row.pk for row in response.context["cl"].result_list]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]
