<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\Webhook;

/** What the webhook endpoint answers: an HTTP status code and a short plain-text body. */
final class Response
{
    public function __construct(
        public readonly int $statusCode,
        public readonly string $body,
    ) {
    }
}
