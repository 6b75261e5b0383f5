<?php

declare(strict_types=1);

namespace Magento\Framework\App;

/** Double of Magento's ActionInterface. */
interface ActionInterface
{
    public const FLAG_NO_DISPATCH = 'no-dispatch';
    public const FLAG_NO_POST_DISPATCH = 'no-postDispatch';
    public const FLAG_NO_DISPATCH_BLOCK_EVENT = 'no-beforeGenerateLayoutBlocksDispatch';
    public const PARAM_NAME_BASE64_URL = 'r64';
    public const PARAM_NAME_URL_ENCODED = 'uenc';

    /** @return \Magento\Framework\Controller\ResultInterface|ResponseInterface */
    public function execute();
}
