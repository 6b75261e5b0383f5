<?php

declare(strict_types=1);

namespace Magento\Framework\App;

/** Double of Magento's RequestInterface. */
interface RequestInterface
{
    public function getModuleName();

    public function setModuleName($name);

    public function getActionName();

    public function setActionName($name);

    public function getParam($key, $defaultValue = null);

    public function setParams(array $params);

    public function getParams();

    public function getCookie($name, $default);

    public function isSecure();
}
