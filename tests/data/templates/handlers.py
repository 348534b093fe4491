"""Local stand-ins for the Lambda functions of the template fixtures."""

from typing import Any


def hello(event: Any, context: Any) -> dict[str, Any]:
    return {"message": "hello", "function": context.function_name}


def echo(event: Any, context: Any) -> Any:
    return event


def check_stock(event: Any, context: Any) -> dict[str, Any]:
    return {"stock_price": 42}


def buy(event: Any, context: Any) -> dict[str, Any]:
    return {
        "id": "t-1",
        "type": "buy",
        "price": str(event["stock_price"]),
        "qty": "3",
        "timestamp": "2024-01-01T00:00:00Z",
    }


def sell(event: Any, context: Any) -> dict[str, Any]:
    return {
        "id": "t-2",
        "type": "sell",
        "price": str(event["stock_price"]),
        "qty": "1",
        "timestamp": "2024-01-01T00:00:00Z",
    }
