"""``ReplayChatModel.with_structured_output`` for ``json_schema`` / ``json_mode``: the recorded
text parsed as JSON, as the real integrations' methods of those names parse it."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel

from ...errors import UsageError


def parsed_output(model: BaseChatModel, schema: dict[str, Any] | type, method: str, *, include_raw: bool,
                  strict: bool | None, **kwargs: Any) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
    if method not in ("json_schema", "json_mode"):
        raise UsageError(f"unknown method {method!r}: use function_calling, json_schema or json_mode")
    if kwargs:
        raise UsageError(f"Received unsupported arguments {kwargs}")
    llm = model.bind(ls_structured_output_format={"kwargs": {"method": method, "strict": strict},
                                                 "schema": schema})
    parser: Runnable[Any, Any]
    if isinstance(schema, type) and is_basemodel_subclass(schema):
        parser = PydanticOutputParser(pydantic_object=schema)
    else:
        parser = JsonOutputParser()
    if not include_raw:
        return llm | parser
    with_parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser,
                                             parsing_error=lambda _: None)
    fallback = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | with_parsed.with_fallbacks([fallback], exception_key="parsing_error")
