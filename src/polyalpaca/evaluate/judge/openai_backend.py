"""Any OpenAI-compatible chat endpoint (OpenAI, Azure-style proxies, vLLM serving an open judge).

The client is built with ``max_retries=0`` on purpose: retries are done by the engine (tenacity), so
that a ``Retry-After`` pauses every concurrent worker, failures count towards the circuit breaker and
each attempt is logged. This module only classifies what went wrong:

* 429 (except ``insufficient_quota``), 408/409, 5xx, timeouts, connection errors, a malformed response
  body -> :class:`RetryableError` (with the ``Retry-After`` seconds when the server sent them);
* 401/403 (the key), 404 (the model or URL), 429 ``insufficient_quota`` -> :class:`JudgeFatalError`;
* any other 4xx (e.g. the prompt is too long) -> :class:`ItemError` for this item only.

The API key is read from the environment variable the config names, kept in one private attribute,
and scrubbed from every message this module produces.
"""

from __future__ import annotations

import email.utils
import logging
import os
import time

from ...errors import ConfigError
from .calls import Answer, Call, ItemError, JudgeFatalError, RetryableError, redact
from .limits import estimate_prompt_tokens, estimate_tokens
from .settings import JudgeConfig, JudgeSettings

log = logging.getLogger(__name__)
NO_KEY = "no-key"  # sent when the config names no key variable (e.g. a local vLLM server without auth)


def _retry_after(headers) -> float | None:
    """Seconds from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date), None if absent."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class OpenAIBackend:
    """Chat completions through ``openai.AsyncOpenAI``; one instance per job."""

    def __init__(self, judge: JudgeConfig, settings: JudgeSettings):
        import openai

        self._openai = openai
        self.judge = judge
        self.settings = settings
        self.max_concurrency = judge.max_concurrency
        self.cache_model = judge.model
        self._secret = None
        if judge.api_key_env:
            self._secret = os.environ.get(judge.api_key_env)
            if not self._secret:
                raise ConfigError(f"judges.{judge.name}.api_key_env: the environment variable "
                                  f"{judge.api_key_env} is not set (export it before running the judge)")
        logging.getLogger("openai").setLevel(logging.WARNING)  # its debug logs show request options
        logging.getLogger("httpx2").setLevel(logging.WARNING)  # one INFO line per request otherwise
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.client = openai.AsyncOpenAI(api_key=self._secret or NO_KEY, base_url=judge.base_url,
                                         timeout=judge.timeout_s, max_retries=0)

    @property
    def secret(self) -> str | None:
        return self._secret

    def params(self, template, attempt: int) -> dict:
        """Sampling parameters: temperature 0 and a fixed seed; a parse retry samples (new seed, temperature)."""
        params = {"temperature": 0.0 if attempt == 0 else self.settings.parse_retry_temperature,
                  "seed": self.settings.seed + attempt, "max_tokens": template.max_tokens}
        if self.judge.json_mode and template.json_output:
            params["response_format"] = {"type": "json_object"}
        return params

    async def complete(self, call: Call) -> Answer:
        openai = self._openai
        name, where = self.judge.name, f"judges.{self.judge.name}"
        try:
            response = await self.client.chat.completions.create(model=self.judge.model, messages=call.messages,
                                                                 **call.params)
        except openai.APITimeoutError:
            raise RetryableError(f"timed out after {self.judge.timeout_s:g} s") from None
        except openai.APIConnectionError as err:
            raise RetryableError(redact(f"connection error: {err}", self._secret)) from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
            env = self.judge.api_key_env or "(none configured)"
            raise JudgeFatalError(f"{where}: the endpoint refused the API key (HTTP {err.status_code}); check "
                                  f"the key in environment variable {env} and {where}.base_url") from None
        except openai.NotFoundError:
            raise JudgeFatalError(f"{where}: HTTP 404 — model {self.judge.model!r} or URL "
                                  f"{self.judge.base_url or 'https://api.openai.com/v1'} not found at the endpoint; "
                                  f"check {where}.model and {where}.base_url") from None
        except openai.APIStatusError as err:
            status = err.status_code
            message = redact(getattr(err, "message", "") or "", self._secret)[:300]
            if status == 429 and getattr(err, "code", None) == "insufficient_quota":
                raise JudgeFatalError(f"{where}: the account has no quota left (HTTP 429 insufficient_quota)") from None
            if status in (408, 409, 429) or status >= 500:
                raise RetryableError(f"HTTP {status}: {message}", _retry_after(err.response.headers)) from None
            raise ItemError(f"HTTP {status} from judge {name}: {message}") from None
        except (ValueError, TypeError) as err:  # a 200 whose body is not a chat completion (JSON errors too)
            raise RetryableError(f"malformed response body ({type(err).__name__}: {str(err)[:120]})") from None
        return self._answer(call, response)

    def _answer(self, call: Call, response) -> Answer:
        choices = getattr(response, "choices", None) or []
        text = choices[0].message.content if choices and choices[0].message is not None else None
        if text is not None and self._secret:
            text = text.replace(self._secret, "[REDACTED]")
        usage = getattr(response, "usage", None)
        if usage is not None and usage.prompt_tokens is not None:
            prompt_tokens, completion_tokens, estimated = usage.prompt_tokens, usage.completion_tokens or 0, False
        else:  # some servers omit usage: estimate, and say so
            prompt_tokens = estimate_prompt_tokens(call.messages)
            completion_tokens, estimated = estimate_tokens(text or ""), True
        extra = {}
        if choices and getattr(choices[0], "finish_reason", None) not in (None, "stop"):
            extra["finish_reason"] = choices[0].finish_reason
        return Answer(text=text, model=getattr(response, "model", None) or self.judge.model,
                      fingerprint=getattr(response, "system_fingerprint", None), prompt_tokens=prompt_tokens,
                      completion_tokens=completion_tokens, usage_estimated=estimated, extra=extra)

    async def aclose(self) -> None:
        await self.client.close()
