<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\Webhook;

/** What the webhook and metrics endpoints answer: an HTTP status code and a plain-text body. */
final class Response
{
    public function __construct(
        public readonly int $statusCode,
        public readonly string $body,
    ) {
    }
}
