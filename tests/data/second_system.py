"""A second, small system: several systems per definitions folder, outputs per system."""

from ccb_observe.model import SLO, RatioIndicator, System, counter
from ccb_observe.promql import matches

orders = counter("orders_total", "Orders placed.", ["outcome"])

SHOP = System(
    "shop",
    metrics=(orders,),
    slos=(SLO("checkout", 99.5, RatioIndicator(total=orders(), bad=orders(outcome=matches("failed|error"))), "Checkouts succeed"),),
)
