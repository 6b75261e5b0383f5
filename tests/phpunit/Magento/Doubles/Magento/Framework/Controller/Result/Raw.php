<?php

declare(strict_types=1);

namespace Magento\Framework\Controller\Result;

/** Double of Magento's Raw result: records code, headers and contents for the test. */
class Raw
{
    private ?int $httpCode = null;
    private array $headers = [];
    private string $contents = '';

    public function setContents($contents)
    {
        $this->contents = (string) $contents;
        return $this;
    }

    public function setHttpResponseCode($httpCode)
    {
        $this->httpCode = (int) $httpCode;
        return $this;
    }

    public function setHeader($name, $value, $replace = false)
    {
        $this->headers[$name] = $value;
        return $this;
    }

    public function getHttpResponseCode(): ?int
    {
        return $this->httpCode;
    }

    public function getHeaders(): array
    {
        return $this->headers;
    }

    public function getContents(): string
    {
        return $this->contents;
    }
}
