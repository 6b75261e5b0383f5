<?php

declare(strict_types=1);

namespace Magento\Framework\App\Request;

use Magento\Framework\App\RequestInterface;

/** Double of Magento's HTTP request: a raw body, headers (names case-insensitive) and $_SERVER values. */
class Http implements RequestInterface
{
    private array $headers = [];
    private array $params = [];

    public function __construct(private string $content = '', array $headers = [], private string $method = 'POST', private array $server = [])
    {
        foreach ($headers as $name => $value) {
            $this->headers[strtolower($name)] = $value;
        }
    }

    public function getContent()
    {
        return $this->content;
    }

    public function getHeader($name, $default = false)
    {
        return $this->headers[strtolower((string) $name)] ?? $default;
    }

    /** Laminas' PhpEnvironment\Request::getServer(), which Magento's request extends. */
    public function getServer($name = null, $default = null)
    {
        return $name === null ? $this->server : ($this->server[$name] ?? $default);
    }

    public function getMethod()
    {
        return $this->method;
    }

    public function isPost()
    {
        return $this->method === 'POST';
    }

    public function getModuleName()
    {
        return 'monei_concurrency';
    }

    public function setModuleName($name)
    {
        return $this;
    }

    public function getActionName()
    {
        return 'index';
    }

    public function setActionName($name)
    {
        return $this;
    }

    public function getParam($key, $defaultValue = null)
    {
        return $this->params[$key] ?? $defaultValue;
    }

    public function setParams(array $params)
    {
        $this->params = $params;
        return $this;
    }

    public function getParams()
    {
        return $this->params;
    }

    public function getCookie($name, $default)
    {
        return $default;
    }

    public function isSecure()
    {
        return true;
    }
}
