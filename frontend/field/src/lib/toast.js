// Vant's toast with its style, for screens that load it lazily (the today list).
import 'vant/es/toast/style';

export { showToast } from 'vant';
